"""Several runs at once on one API key: do they keep, together, to the limit that the key has?

    python -m bench.shared_key --runs 4 --movies 250 --rate-limit 40
    python -m bench.shared_key --root /tmp/before_wt      # the same against another checkout

The local server (its own process) answers 429 past `--rate-limit` requests in any second, with Retry-After 1.
`--runs` commands `python -m movie_enrichment --input <own copy> --tmdb_base_url URL --http_cache <own cache>`
start at once, each on its own copy of one database of `--movies` new movies and with its own HTTP cache, so
that every lookup reaches the server; all else is the defaults (40 requests/s for each run, which is all the
limit). They share one cache folder (XDG_CACHE_HOME), as runs of one user do, and so the machine's rate budget.
Then one run alone, for comparison. For each case: the requests the server saw, the 429s among them, the
answered requests per second from the first request to the last against the limit, and the movies failed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench import synth
from bench.server import API_KEY, Server

ROOT = Path(__file__).resolve().parents[1]


def _case(runs: int, root: Path, folder: Path, server: Server, python: str) -> dict:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    env = dict(os.environ, TMDB_API_KEY=API_KEY, XDG_CACHE_HOME=str(folder / "xdg-cache"),
               PYTHONPATH=str(root))
    server.reset()
    procs = []
    started = time.monotonic()
    for i in range(runs):
        run = folder / f"run{i}"
        run.mkdir()
        shutil.copy(folder.parent / "movies.json", run / "movies.json")
        argv = [python, "-m", "movie_enrichment", "--input", str(run / "movies.json"), "--tmdb_base_url",
                server.url, "--http_cache", str(run / "http-cache.sqlite"), "--report", str(run / "report.json"),
                "--progress", "off"]
        with open(run / "stderr.txt", "wb") as err:
            procs.append(subprocess.Popen(argv, cwd=str(root), env=env, stdout=subprocess.DEVNULL, stderr=err))
    codes = [proc.wait(timeout=1800) for proc in procs]
    wall = time.monotonic() - started
    stats = server.stats()
    failed = []  # per run; None: no report (the run itself failed)
    for i in range(runs):
        try:
            failed.append(json.loads((folder / f"run{i}" / "report.json").read_text())["movies_failed"])
        except (OSError, ValueError, KeyError):
            failed.append(None)
    total = stats["total"]
    refused = stats["by_status"].get("429", 0)
    span = (stats["last_at"] or 0) - (stats["first_at"] or 0)
    answered = total - refused
    return {"runs": runs, "exit_codes": codes, "wall": wall, "requests": total, "refused": refused,
            "refused_share": refused / total if total else 0.0, "span": span,
            "answered_per_second": answered / span if span else 0.0, "failed_movies": failed,
            "by_status": stats["by_status"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--movies", type=int, default=250, help="new movies in each run's database")
    parser.add_argument("--rate-limit", type=float, default=40.0)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose movie_enrichment runs")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "shared_key")
    parser.add_argument("--no-single", action="store_true", help="skip the one-run comparison")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    made = synth.make(args.out, args.movies, args.movies)
    rows = []
    with Server(str(made["catalog"]), rate_limit=args.rate_limit, log_path=str(args.out / "server.log"),
                python=args.python) as server:
        for runs in [args.runs] + ([] if args.no_single or args.runs == 1 else [1]):
            row = _case(runs, args.root.resolve(), args.out / f"{runs}-runs", server, args.python)
            row["limit"] = args.rate_limit
            row["load"] = os.getloadavg()[0]
            rows.append(row)
            print(f"{runs} run(s) at once: {row['requests']} requests, {row['refused']} refused "
                  f"({100 * row['refused_share']:.1f}%), {row['answered_per_second']:.1f} answered/s of "
                  f"{args.rate_limit:g} ({100 * row['answered_per_second'] / args.rate_limit:.0f}%) over "
                  f"{row['span']:.1f} s, {row['failed_movies']} movies failed, exit codes {row['exit_codes']}",
                  flush=True)
    (args.out / "results.json").write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
