"""Scenario D, image downloads (issue 26): images per second and CPU per image, beside the runs without them.

    bench/run.sh --only D                            # in the suite: bench/RESULTS.md
    python -m bench.download_images                  # alone: bench/out/D/results.json
    python -m bench.download_images --movies 500     # smaller

N synthetic films (2,000 by default, every one found) against the local server (its own process; it draws a real
JPEG for each image path), each run with the defaults (HTTP cache on, default workers, no rate limit): metadata
only, metadata and image links (the defaults), `--download_images DIR`, and the last again with `--reprocess all`
when everything is stored. CPU is the run's process tree (getrusage of the waited child; the server is apart).
Images per second: images stored or found over the run's wall time; CPU per image: the run's CPU less the
links-only run's, per image handled. The targets: every image stored, each whole (it decodes), and the rerun
downloads nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.server import API_KEY, Server

ROOT = Path(__file__).resolve().parents[1]
MOVIES = 2000


def _run(label: str, db: Path, folder: Path, extra: list[str], root: Path, python: str, server: Server) -> dict:
    env = {**os.environ, "TMDB_API_KEY": API_KEY, "XDG_CACHE_HOME": str(folder / "xdg-cache"),
           "PYTHONPATH": str(root)}
    argv = [python, "-m", "movie_enrichment", "--input", str(db), "--tmdb_base_url", server.url,
            "--http_cache", str(db) + ".sqlite", "--progress", "off", "--max_requests_per_second", "0", *extra]
    before, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    done = subprocess.run(argv, env=env, cwd=str(root), capture_output=True, text=True)
    wall, after = time.monotonic() - started, resource.getrusage(resource.RUSAGE_CHILDREN)
    report = json.loads(Path(str(db) + ".report.json").read_bytes()) if done.returncode == 0 else {}
    return {"label": label, "options": " ".join(extra) or "(defaults)", "exit_code": done.returncode, "wall": wall,
            "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
            **{name: report.get(name, 0) for name in ("images_downloaded", "images_skipped", "images_failed",
                                                      "images_bytes")},
            "error": (done.stderr.strip().splitlines() or [""])[-1][:300] if done.returncode else ""}


def _whole(folder: Path) -> tuple[int, int]:
    """(files under `folder`, of which whole images): each is decoded as the stage decodes it."""
    from movie_enrichment.io.images.decode import decode  # pylint: disable=import-outside-toplevel
    files = [path for path in folder.rglob("*") if path.is_file()]
    whole = 0
    for path in files:
        try:
            decode(path.read_bytes())
            whole += 1
        except Exception:  # pylint: disable=broad-except
            pass
    return len(files), whole


def measure(out: Path, movies: int = MOVIES, root: Path = ROOT, python: str = sys.executable, log=print) -> dict:
    """The four runs; a dict with each run's figures and the stored files' check."""
    from movie_enrichment.testing import synthetic  # pylint: disable=import-outside-toplevel
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    catalog = out / "catalog.json"
    catalog.write_bytes(json.dumps(synthetic.catalog(movies)).encode())
    images = ["--download_images", str(out / "img")]
    runs, load = [], os.getloadavg()[0]
    with Server(str(catalog), log_path=str(out / "server.log"), python=python) as server:
        for label, extra, name in (("metadata only", ["--enrich", "metadata"], "metadata.json"),
                                   ("metadata and image links (defaults)", [], "links.json"),
                                   ("--download_images DIR", images, "download.json"),
                                   ("rerun, --reprocess all (everything stored)", [*images, "--reprocess", "all"],
                                    "download.json")):
            db = out / name
            if not db.exists():
                db.write_bytes(synthetic.database(movies))
            log(f"  D {label}: running")
            run = _run(label, db, out, extra, root, python, server)
            log(f"    {run['wall']:.1f} s, CPU {run['cpu']:.1f} s, stored {run['images_downloaded']}, "
                f"already there {run['images_skipped']}" + (f" FAILED: {run['error']}" if run["exit_code"] else ""))
            runs.append(run)
    files, whole = _whole(out / "img")
    return {"movies": movies, "cores": os.cpu_count(), "load": load, "runs": runs, "files": files, "whole": whole}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--movies", type=int, default=MOVIES)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose movie_enrichment runs")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "D")
    args = parser.parse_args(argv)
    result = measure(args.out, args.movies, args.root.resolve(), args.python)
    (args.out / "results.json").write_text(json.dumps(result, indent=2))
    print(table(result))
    return 0 if not misses(result) else 1


# --- the report's section -----------------------------------------------------------------------------------

def _handled(run: dict) -> int:
    return run["images_downloaded"] + run["images_skipped"]


def misses(result: dict) -> list[str]:
    """What of the targets the runs miss (none: met)."""
    _, _, download, again = result["runs"]
    out = [f"{run['label']} failed" for run in result["runs"] if run["exit_code"]]
    if download["images_failed"] or not download["images_downloaded"]:
        out.append(f"{download['images_downloaded']} images stored, {download['images_failed']} failed")
    if result["whole"] != result["files"]:
        out.append(f"{result['files'] - result['whole']} of {result['files']} stored files do not decode")
    if again["images_downloaded"]:
        out.append(f"the rerun downloaded {again['images_downloaded']} images")
    return out


def targets(result: dict) -> list[tuple[str, str, bool]]:
    """(target, figure, met) for the report's Targets table."""
    links, download = result["runs"][1], result["runs"][2]
    handled = max(_handled(download), 1)
    return [(f"D {result['movies']:,} films with --download_images: every image stored whole, a rerun downloads "
             "nothing", f"{download['images_downloaded']:,} stored in {download['wall']:.1f} s "
             f"({_handled(download) / download['wall']:.0f} images/s, "
             f"{(download['cpu'] - links['cpu']) / handled * 1000:.1f} ms CPU per image); rerun "
             f"{result['runs'][3]['images_downloaded']} downloaded", not misses(result))]


def table(result: dict) -> str:
    """The Markdown table of the four runs, with the verdict."""
    links = result["runs"][1]
    lines = [f"{result['movies']:,} synthetic films, every one found, the defaults (HTTP cache on, default workers, "
             f"no rate limit); {result['cores']} cores, load {result['load']:.1f} at the start.", "",
             "| run | wall s | CPU s | images stored | already there | failed | MB | images/s | CPU per image |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for run in result["runs"]:
        handled = _handled(run)
        rate = f"{handled / run['wall']:.0f}" if handled else ""
        cpu = f"{(run['cpu'] - links['cpu']) / handled * 1000:.1f} ms" if handled else ""
        lines.append(f"| {run['label']} | {run['wall']:.1f} | {run['cpu']:.1f} | {run['images_downloaded']:,} | "
                     f"{run['images_skipped']:,} | {run['images_failed']} | {run['images_bytes'] / 1e6:.1f} | "
                     f"{rate} | {cpu} |")
    missed = misses(result)
    lines += ["", f"Stored files that decode whole: {result['whole']:,} of {result['files']:,}. CPU per image: the "
              "run's CPU less the links-only run's, per image stored or found.", "",
              "Verdict: " + ("**met**" if not missed else "**MISSED**: " + "; ".join(missed))]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
