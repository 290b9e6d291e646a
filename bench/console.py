"""The admin console under a real run: its API's response times and its own memory while a run enriches a large
database (`python -m bench.console --size 50000 --pending 3000`).

Makes a synthetic database (bench/synth.py) and its catalog, starts the local TMDB server and
`movie-enrich serve` in their own processes, launches one run through POST /api/runs, then polls
GET /api/runs/{id} and GET /api/database twice a second until the run ends, timing each answer, and samples
the server's resident memory (its own process, not the run's) from /proc. Prints the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile
import time

import httpx

from bench import synth
from bench.server import API_KEY, Server

TOKEN = "bench-console-token"


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as handle:
        found = re.search(r"VmRSS:\s+(\d+) kB", handle.read())
    return int(found.group(1)) / 1024 if found else float("nan")


def summary(times: list[float]) -> dict:
    ordered = sorted(times)
    return {"count": len(ordered), "median_ms": round(statistics.median(ordered) * 1000, 1),
            "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 1),
            "max_ms": round(ordered[-1] * 1000, 1)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=50_000)
    parser.add_argument("--pending", type=int, default=3_000)
    parser.add_argument("--rate", type=float, default=0, help="--max_requests_per_second of the runs (0: none)")
    o = parser.parse_args(argv)
    folder = pathlib.Path(tempfile.mkdtemp(prefix="bench-console-"))
    made = synth.make(folder, o.size, o.pending)
    env = {**os.environ, "TMDB_API_KEY": API_KEY, "XDG_CACHE_HOME": str(folder / "xdg")}
    with Server(made["catalog"], log_path=str(folder / "tmdb.log")) as tmdb:
        serve = subprocess.Popen(
            [sys.executable, "-m", "movie_enrichment", "serve", "--input", str(made["db"]), "--port", "0",
             "--token", TOKEN, "--tmdb_base_url", tmdb.url, "--no_http_cache", "--max_requests_per_second",
             str(o.rate), "--progress", "off"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        try:
            line = serve.stdout.readline() + serve.stdout.readline()
            url = re.search(r"(http://[^/]+)/\?token=", line).group(1)
            http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
            started = time.monotonic()
            first = http.get("/api/database")
            first_count = time.monotonic() - started
            idle_rss = rss_mb(serve.pid)
            run_id = http.post("/api/runs", json={"enrich": "metadata,images"}).json()["id"]
            run_times, db_times, rss = [], [], [idle_rss]
            state = "queued"
            while state not in ("succeeded", "failed", "cancelled"):
                t0 = time.monotonic()
                state = http.get(f"/api/runs/{run_id}").json()["state"]
                run_times.append(time.monotonic() - t0)
                t0 = time.monotonic()
                http.get("/api/database")
                db_times.append(time.monotonic() - t0)
                rss.append(rss_mb(serve.pid))
                time.sleep(0.5)
            run = http.get(f"/api/runs/{run_id}").json()
            t0 = time.monotonic()
            recount = http.get("/api/database").json()
            recount_s = time.monotonic() - t0
        finally:
            serve.terminate()
            serve.wait(20)
    figures = {
        "database": {"movies": o.size, "pending": o.pending, "bytes": made["db_bytes"]},
        "run": {"state": run["state"], "elapsed_seconds": (run.get("report") or {}).get("elapsed_seconds"),
                "movies_looked_up": (run.get("report") or {}).get("movies_looked_up")},
        "first_count_seconds": round(first_count, 2), "first_count_movies": first.json().get("movies"),
        "recount_after_run_seconds": round(recount_s, 2), "recount_movies": recount.get("movies"),
        "GET /api/runs/{id} during the run": summary(run_times),
        "GET /api/database during the run": summary(db_times),
        "server_rss_mb": {"idle": round(idle_rss, 1), "peak_during_run": round(max(rss), 1)},
    }
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
