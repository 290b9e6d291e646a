"""The cost of merging onto a database another program saved during the run, on a 50,000-movie database.

    python -m bench.concurrent [--size 50000] [--pending 1000] [--repeat 3] [--write bench/RESULTS.md]

Each measurement runs in a fresh process: it reads the database as the pipeline's read does (parse, keep the
records for the sink), builds the patches of `pending` enriched movies, then times the sink's commit
(`sink.commit`) either on the unchanged file or after another program saved it (adding, editing, deleting and
re-titling movies). Peak RSS is the process's high-water mark (`ru_maxrss`), after the read and after the commit.
With --write, the figures replace the "Other writers" section of that file.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import orjson

from bench import synth

_START = "<!-- bench/concurrent.py: start -->"
_END = "<!-- bench/concurrent.py: end -->"


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _edit(value: dict, pending: list[str]) -> dict:
    """Another program's save, among the movies this run enriched: 100 edited (their results merge), 10 deleted
    (dropped), 10 re-titled (skipped); and 100 movies added."""
    value = dict(value)
    step = max(1, len(pending) // 120)
    chosen = pending[::step][:120]
    for n, key in enumerate(chosen[:100]):
        value[key] = {**value[key], "notes": f"edited {n}"}
    for key in chosen[100:110]:
        del value[key]
    for key in chosen[110:120]:
        value[key] = {**value[key], "title": value[key]["title"] + " (Director's Cut)"}
    for n in range(100):
        value[f"Added {n}"] = {"title": f"Added {n}", "year": 2026}
    return value


def measure(path: str, size: int, pending: int, changed: bool) -> dict:
    """One measurement, in this process (run by `main` in a fresh one)."""
    from movie_enrichment.io import database, sink
    from movie_enrichment.transforms import extract
    from movie_enrichment.transforms.enrich import match_digest

    snapshot, items = database.load(path)
    snapshot = snapshot.without_bytes()  # as the pipeline's read emits it: the sink reads the file again
    records = dict(items)
    patches = {}
    for i in synth.pending_indexes(size, pending):
        key = synth.title(i)
        body = synth.details(i)
        patches[key] = {"tmdb": extract.metadata_block(body), "images": extract.images_block(body, synth.IMAGE_BASE),
                        "enrichment": {"metadata": {"status": "ok"}, "images": {"status": "ok"}},
                        sink.LOOKED_UP: match_digest(key, records[key])}
    del records
    if changed:  # the other program saves, in a process of its own, after this run's read
        subprocess.run([sys.executable, "-m", "bench.concurrent", "--edit", path, "--size", str(size),
                        "--pending", str(pending)], check=True)
    after_read = _peak_mib()
    started = time.perf_counter()
    written = sink.commit(snapshot, patches, path, os.path.join(os.path.dirname(path), "backups"),
                          digest=match_digest)
    elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "peak_after_read_mib": after_read, "peak_mib": _peak_mib(),
            "records": written["records"], "updated": written["updated"], "merged": written["merged"],
            "dropped": written["dropped"], "skipped": written["skipped"], "changes": written["changes"]}


def _one(folder: pathlib.Path, size: int, pending: int, changed: bool, original: bytes) -> dict:
    db = folder / "movies.json"
    db.write_bytes(original)
    out = subprocess.run([sys.executable, "-m", "bench.concurrent", "--one", str(db), "--size", str(size),
                          "--pending", str(pending)] + (["--changed"] if changed else []),
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def render(size: int, pending: int, db_bytes: int, runs: dict[str, list[dict]]) -> str:
    lines = [_START, "## Other writers: the cost of merging", "",
             f"`python -m bench.concurrent --size {size} --pending {pending}` ({platform.python_version()}, "
             f"{os.cpu_count()} cores). The sink's commit of {pending:,} enriched movies into a {size:,}-movie "
             f"database ({db_bytes / 2**20:.0f} MiB, indented JSON), each in a fresh process, median of "
             f"{len(next(iter(runs.values())))}: on the file as read, and after another program saved it during the "
             "run (100 movies added; of those this run enriched, 100 edited, 10 deleted, 10 re-titled). "
             "The commit includes its checks of the file, the backup, the new file and its fsyncs; peak RSS is "
             "the process's, after the read and at the end.", "",
             "| file at commit time | commit s | peak RSS after the read MiB | peak RSS at the end MiB | "
             "results written | merged | dropped | skipped |",
             "|---|---|---|---|---|---|---|---|"]
    for name, rows in runs.items():
        med = {k: statistics.median(r[k] for r in rows) for k in ("seconds", "peak_after_read_mib", "peak_mib")}
        last = rows[-1]
        lines.append(f"| {name} | {med['seconds']:.2f} | {med['peak_after_read_mib']:.0f} | {med['peak_mib']:.0f} "
                     f"| {last['updated']} | {last['merged']} | {last['dropped']} | {last['skipped']} |")
    base, other = (statistics.median(r["seconds"] for r in rows) for rows in runs.values())
    peak_base, peak_other = (statistics.median(r["peak_mib"] for r in rows) for rows in runs.values())
    lines += ["", f"Merging costs {other - base:+.2f} s ({other / base:.1f}x the commit) and {peak_other - peak_base:+.0f} "
              "MiB of peak RSS: the other program's version is read and parsed once more (the reader's exact "
              "parse, which keeps every record's bytes for the splice), and the match inputs of each patched record "
              "compared; the records as first read are released before that parse. A file nobody else saved costs "
              "nothing more than before but the checks: one more read of the file and a CRC.", _END]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=50_000)
    parser.add_argument("--pending", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", help="a Markdown file whose 'Other writers' section is replaced")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--changed", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--edit", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.edit:
        pending = [synth.title(i) for i in synth.pending_indexes(args.size, args.pending)]
        value = _edit(orjson.loads(pathlib.Path(args.edit).read_bytes()), pending)
        temp = args.edit + ".other-program"
        pathlib.Path(temp).write_bytes(orjson.dumps(value, option=orjson.OPT_INDENT_2) + b"\n")
        os.replace(temp, args.edit)
        return 0
    if args.one:
        print(json.dumps(measure(args.one, args.size, args.pending, args.changed)))
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-concurrent-") as scratch:
        folder = pathlib.Path(scratch)
        original = orjson.dumps(synth.database(args.size, synth.pending_indexes(args.size, args.pending)),
                                option=orjson.OPT_INDENT_2) + b"\n"
        runs: dict[str, list[dict]] = {"unchanged": [], "saved by another program": []}
        for _ in range(args.repeat):
            runs["unchanged"].append(_one(folder, args.size, args.pending, False, original))
            runs["saved by another program"].append(_one(folder, args.size, args.pending, True, original))
    text = render(args.size, args.pending, len(original), runs)
    print(text)
    if args.write:
        target = pathlib.Path(args.write)
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if _START in current and _END in current:
            current = current[:current.index(_START)] + text + current[current.index(_END) + len(_END) + 1:]
        else:
            current = current.rstrip("\n") + "\n\n" + text
        target.write_text(current, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
