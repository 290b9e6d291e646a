"""A full catalogue with the defaults users run: the scale curve, the HTTP cache's size, and a weekly refresh.

    python -m bench.catalogue --sizes 5000,50000 --out bench/out/catalogue

For each size: every movie new, the local server with real-sized details bodies (50-150 KB), no latency, no
rate limit; the pipeline with its defaults (HTTP cache on, a fresh cache folder) against the load-once loop:
wall, CPU seconds, peak RSS of the process tree, and the cache's size on disk. For the largest size, a weekly
refresh: the enriched database aged by a week, 2% of its films edited on TMDB since, TMDB's change feed
listing `--noise` other films a day; `--reprocess changed` against `--reprocess all`, in requests, with every
edited film checked for its fresh overview.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import sys
import urllib.request
from pathlib import Path

import orjson

from bench import measure, synth
from bench.server import API_KEY, Server

ROOT = Path(__file__).resolve().parents[1]
CACHE_FILE = ("movie_enrichment", "tmdb_responses.sqlite")
EDITED = " (edited on TMDB)"


def _env(run_dir: Path) -> dict:
    env = dict(os.environ)
    env["TMDB_API_KEY"] = API_KEY
    env["XDG_CACHE_HOME"] = str(run_dir / "xdg-cache")  # a fresh default cache per run folder
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    return env


def _cache_bytes(run_dir: Path) -> int:
    path = run_dir.joinpath("xdg-cache", *CACHE_FILE)
    return sum(os.path.getsize(p) for p in (str(path), f"{path}-wal", f"{path}-shm") if os.path.exists(p))


def _run(label: str, argv: list[str], run_dir: Path, server: Server, log) -> dict:
    server.reset()
    cpu_before = server.cpu_seconds()
    log(f"  {label}: running")
    measured = measure.run(argv, env=_env(run_dir), cwd=str(ROOT), log_path=str(run_dir / label.replace(" ", "_")))
    stats = server.stats()
    row = {"label": label, "wall": measured.wall, "cpu": measured.cpu, "peak_rss": measured.peak_rss,
           "returncode": measured.returncode, "requests": stats["total"], "by_endpoint": stats["by_endpoint"],
           "by_status": stats["by_status"], "server_cpu": server.cpu_seconds() - cpu_before,
           "load": os.getloadavg()[0], "error": "" if measured.ok() else (measured.killed or measured.stderr[-300:])}
    log(f"    {measured.wall:.1f} s, {measured.cpu:.1f} CPU s, peak RSS {measured.peak_rss / 2**20:.0f} MiB, "
        f"{stats['total']} requests" + (f" FAILED: {row['error']}" if row["error"] else ""))
    return row


def pipeline(db: Path, server: Server, *extra: str) -> list[str]:
    return [sys.executable, "-m", "movie_enrichment", "--input", str(db), "--tmdb_base_url", server.url,
            "--progress", "off", "--max_requests_per_second", "0", *extra]


def load_once(db: Path, server: Server) -> list[str]:
    return [sys.executable, "-m", "bench.peers.load_once", "--input", str(db), "--output", str(db), "--base-url",
            server.url, "--api-key", API_KEY, "--max-requests-per-second", "0"]


def scale(size: int, out: Path, noise: int, refresh: bool, log) -> dict:
    folder = out / f"N{size}"
    if folder.exists():
        shutil.rmtree(folder)
    data = synth.make(folder / "data", size, size)
    result = {"size": size, "db_bytes": data["db_bytes"]}
    with Server(str(data["catalog"]), extra=["--realistic-bodies", "--changes-noise-per-day", str(noise)],
                log_path=str(folder / "server.log")) as server:
        for name, command in (("pipeline", pipeline), ("load_once", load_once)):
            run_dir = folder / name
            run_dir.mkdir(parents=True)
            db = run_dir / "movies.json"
            shutil.copyfile(data["db"], db)
            result[name] = _run(f"N={size} {name}", command(db, server), run_dir, server, log)
            result[name]["db_bytes_after"] = db.stat().st_size
        result["cache_bytes"] = _cache_bytes(folder / "pipeline")
        log(f"    HTTP cache after the pipeline's run: {result['cache_bytes'] / 2**20:.1f} MiB")
        if refresh and result["pipeline"]["returncode"] == 0:  # a refresh needs the enriched database
            result["refresh"] = weekly_refresh(folder, server, size, log)
            result["refresh"]["noise_per_day"] = noise
    return result


def _age(db: Path, days: float) -> None:
    """Moves every enrichment `days` into the past, as if the database had been enriched then."""
    when = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days)).isoformat(
        timespec="seconds").replace("+00:00", "Z")
    records = orjson.loads(db.read_bytes())
    for record in records.values():
        for outcome in (record.get("enrichment") or {}).values():
            outcome["updated_at"] = when
    db.write_bytes(orjson.dumps(records, option=orjson.OPT_INDENT_2))


def _edit(server: Server, ids: list[int], days_ago: float) -> None:
    at = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days_ago)).timestamp()
    for start in range(0, len(ids), 500):
        query = f"ids={','.join(map(str, ids[start:start + 500]))}&at={at}&suffix={urllib.request.quote(EDITED)}"
        with urllib.request.urlopen(f"{server.root}/__change?{query}", timeout=30) as response:
            response.read()


def weekly_refresh(folder: Path, server: Server, size: int, log) -> dict:
    """A week after the first run, 2% of the films edited on TMDB: `--reprocess changed` against `all`."""
    enriched = folder / "pipeline" / "movies.json"
    edited = [synth.tmdb_id(i) for i in range(0, size, 50)]  # 2%
    _edit(server, edited, days_ago=3)
    rows = {}
    for mode in ("changed", "all"):
        run_dir = folder / f"refresh_{mode}"
        run_dir.mkdir(parents=True)
        shutil.copytree(folder / "pipeline" / "xdg-cache", run_dir / "xdg-cache")  # the first run's cache
        db = run_dir / "movies.json"
        shutil.copyfile(enriched, db)
        _age(db, 7)
        if mode == "changed":
            dry = measure.run(pipeline(db, server, "--reprocess", "changed", "--dry_run"), env=_env(run_dir),
                              cwd=str(ROOT), log_path=str(run_dir / "dry_run"))
            rows["dry_run"] = dry.stdout.strip().splitlines()[1:2]
        rows[mode] = _run(f"N={size} refresh --reprocess {mode}", pipeline(db, server, "--reprocess", mode),
                          run_dir, server, log)
        after = orjson.loads(db.read_bytes())
        wanted = set(edited)
        fresh = sum(1 for r in after.values() if isinstance(r.get("tmdb"), dict) and r["tmdb"].get("id") in wanted
                    and str(r["tmdb"].get("overview")).endswith(EDITED))
        rows[mode]["edited_refreshed"] = fresh
    rows["edited"] = len(edited)
    rows["share"] = rows["changed"]["requests"] / rows["all"]["requests"] if rows["all"]["requests"] else None
    log(f"    refresh: changed {rows['changed']['requests']} requests, all {rows['all']['requests']} "
        f"({100 * (rows['share'] or 0):.2f}%), edited films refreshed {rows['changed']['edited_refreshed']} "
        f"of {len(edited)}")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="5000,50000")
    parser.add_argument("--noise", type=int, default=2000,
                        help="other films TMDB's change feed lists per day (default 2000)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "catalogue"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    results = [scale(size, out, args.noise, size == max(sizes), print) for size in sizes]
    (out / "results.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())


# --- the report's section -----------------------------------------------------------------------------------

def _mib(n: float) -> str:
    return f"{n / 2**20:.0f}"


def growth(results: list[dict]) -> dict | None:
    """From the smallest to the largest size: how wall, CPU, peak RSS and the database grow."""
    if len(results) < 2:
        return None
    small, large = results[0], results[-1]
    out = {"from": small["size"], "to": large["size"], "db": large["db_bytes"] / small["db_bytes"]}
    for name in ("pipeline", "load_once"):
        out[name] = {k: large[name][k] / small[name][k] if small[name][k] else None
                     for k in ("wall", "cpu", "peak_rss")}
    return out


def targets(results: list[dict]) -> list[tuple[str, str, bool | None]]:
    """(target, figure, met) rows for the report's table."""
    rows: list[tuple[str, str, bool | None]] = []
    if not results:
        return rows
    large = results[-1]
    p, loop = large["pipeline"], large["load_once"]
    ratio = p["peak_rss"] / loop["peak_rss"] if loop["peak_rss"] else None
    if p.get("error"):
        rows.append((f"C {large['size']:,} new movies: the pipeline completes", p["error"][:200], False))
    rows.append((f"C {large['size']:,} new movies: pipeline peak RSS ≤ 2x the load-once loop's",
                 f"{ratio:.2f}x ({_mib(p['peak_rss'])} MiB vs {_mib(loop['peak_rss'])} MiB)" if ratio else "n/a",
                 ratio is not None and ratio <= 2))
    grown = growth(results)
    if grown:
        mem = grown["pipeline"]["peak_rss"]
        rows.append((f"C {grown['from']:,} -> {grown['to']:,}: pipeline memory grows no faster than the database",
                     f"memory x{mem:.2f}, database x{grown['db']:.2f}", mem is not None and mem <= grown["db"]))
    rows.append((f"C HTTP cache on disk after {large['size']:,} movies with real-sized bodies",
                 f"{large['cache_bytes'] / 2**20:.1f} MiB ({large['cache_bytes'] / large['size'] / 1024:.2f} KiB "
                 "per movie; cap 512 MiB by default)", large["cache_bytes"] <= 512 * 2**20))
    refresh = large.get("refresh")
    if refresh and refresh.get("share") is not None:
        changed = refresh["changed"]
        rows.append((f"C weekly refresh of {large['size']:,} movies, 2% edited: `--reprocess changed` ≤ 3% of a "
                     "full refresh's requests, every edited film fresh",
                     f"{100 * refresh['share']:.2f}% ({changed['requests']} vs {refresh['all']['requests']}); "
                     f"{changed['edited_refreshed']} of {refresh['edited']} edited films refreshed",
                     refresh["share"] <= 0.03 and changed["edited_refreshed"] == refresh["edited"]))
    return rows


def section(results: list[dict]) -> list[str]:
    """The Markdown of the catalogue scenario: the curve, the cache's size, the refresh."""
    lines = ["| movies (all new) | database MB | run | wall s | CPU s | peak RSS MiB (tree) | requests | "
             "HTTP cache MiB |", "|---|---|---|---|---|---|---|---|"]
    for r in results:
        for name in ("pipeline", "load_once"):
            row = r[name]
            cache = f"{r['cache_bytes'] / 2**20:.1f}" if name == "pipeline" else ""
            note = f" ({row['error'][:80]})" if row.get("error") else ""
            lines.append(f"| {r['size']:,} | {r['db_bytes'] / 1e6:.1f} | `{name}`{note} | {row['wall']:.1f} | "
                         f"{row['cpu']:.1f} | {_mib(row['peak_rss'])} | {row['requests']} | {cache} |")
    grown = growth(results)
    if grown:
        lines += ["", f"From {grown['from']:,} to {grown['to']:,} movies the database grows x{grown['db']:.2f}; "
                  + "; ".join(f"`{n}`: wall x{g['wall']:.2f}, CPU x{g['cpu']:.2f}, peak RSS x{g['peak_rss']:.2f}"
                              for n, g in ((n, grown[n]) for n in ("pipeline", "load_once"))) + "."]
    refresh = results[-1].get("refresh") if results else None
    if refresh:
        lines += ["", "| weekly refresh (cache on) | requests | by endpoint | edited films refreshed | wall s |",
                  "|---|---|---|---|---|"]
        for mode in ("changed", "all"):
            row = refresh[mode]
            by = ", ".join(f"{k} {v}" for k, v in row["by_endpoint"].items() if v)
            lines.append(f"| `--reprocess {mode}` | {row['requests']} | {by} | {row['edited_refreshed']} of "
                         f"{refresh['edited']} | {row['wall']:.1f} |")
        if refresh.get("dry_run"):
            lines += ["", f"`--dry_run` said: `{refresh['dry_run'][0].strip()}`"]
    return lines
