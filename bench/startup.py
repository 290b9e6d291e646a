"""Start-up: how long after the command the first request, and the first lookup, reach the server.

    python -m bench.startup --runs 3

The sample database (movie_enrichment/testing/data/sample_movies.json, 200 movies) against the bundled
server (`python -m movie_enrichment.testing.tmdb_server --port 0`, its own catalogue), each run the command with
its defaults on a fresh copy and a fresh cache folder (so the first request is not answered from an earlier
run's cache). The times come from the server's own clock (GET /__stats: `first_at`, `first_lookup_at`, the
same monotonic clock as this process) against the moment the command was started, as S2's "first request at".
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
from pathlib import Path

from bench import measure
from bench.server import API_KEY, Server

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "movie_enrichment" / "testing" / "data" / "sample_movies.json"


def first_requests(runs: int, out: Path, log=print) -> list[dict]:
    """`runs` runs of the command on the sample: seconds to the first request and to the first lookup."""
    found = []
    with Server(None, log_path=str(out / "server.log")) as server:
        for i in range(runs):
            run_dir = out / f"run{i}"
            shutil.rmtree(run_dir, ignore_errors=True)
            run_dir.mkdir(parents=True)
            shutil.copyfile(SAMPLE, run_dir / "movies.json")
            env = dict(os.environ, TMDB_API_KEY=API_KEY, XDG_CACHE_HOME=str(run_dir / "xdg-cache"),
                       PYTHONPATH=str(ROOT))
            argv = [sys.executable, "-m", "movie_enrichment", "--input", str(run_dir / "movies.json"),
                    "--tmdb_base_url", server.url]
            server.reset()
            load = os.getloadavg()[0]
            measured = measure.run(argv, env=env, cwd=str(ROOT), log_path=str(run_dir / "log"))
            stats = server.stats()
            row = {"returncode": measured.returncode, "wall": measured.wall, "load": load,
                   "first_request": stats["first_at"] - measured.started if stats.get("first_at") else None,
                   "first_lookup": (stats["first_lookup_at"] - measured.started
                                    if stats.get("first_lookup_at") else None)}
            log(f"run {i + 1}: first request at {row['first_request']:.2f} s, first lookup at "
                f"{row['first_lookup']:.2f} s, exit {row['returncode']} after {row['wall']:.1f} s "
                f"(load {load:.1f})")
            found.append(row)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "startup")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rows = first_requests(args.runs, args.out)
    for key in ("first_request", "first_lookup"):
        values = [r[key] for r in rows if r[key] is not None]
        if values:
            print(f"{key.replace('_', ' ')}: median {statistics.median(values):.2f} s, "
                  f"range {min(values):.2f}-{max(values):.2f} s over {len(values)} runs")
    return 0 if all(r["returncode"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
