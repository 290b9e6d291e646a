"""Scenario S5, several runs at once on one API key: do they keep, together, to the limit that the key has?

    bench/run.sh --only S5                                  # in the suite: bench/RESULTS.md
    python -m bench.shared_key --runs 4 --movies 250 --rate-limit 40
    python -m bench.shared_key --root /tmp/before_wt        # the same against another checkout

The local server (its own process) answers 429 past the limit's requests in any second, with Retry-After 1.
`runs` commands `python -m movie_enrichment --input <own copy> --tmdb_base_url URL --http_cache <own cache>`
start at once, each on its own copy of one database of `movies` new movies and with its own HTTP cache, so
that every lookup reaches the server; all else is the defaults (40 requests/s for each run, which is all the
limit). They share one cache folder (XDG_CACHE_HOME), as runs of one user do, and so the machine's rate budget.
Then one run alone, for comparison. For each case: the requests the server saw, the 429s among them, the
answered requests per second from the first request to the last against the limit, and the movies failed.
The targets are issue 22's: with 4 runs, at most 5% of the requests refused, at least 80% of the limit used,
nothing failed.
"""

from __future__ import annotations

import argparse
import datetime
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
MAX_REFUSED = 0.05  # of the requests, answered 429
MIN_USED = 0.80  # of the limit, in answered requests per second


def _case(runs: int, db: Path, root: Path, folder: Path, server: Server, python: str) -> dict:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    env = dict(os.environ, TMDB_API_KEY=API_KEY, XDG_CACHE_HOME=str(folder / "xdg-cache"),
               PYTHONPATH=str(root))
    server.reset()
    procs = []
    load = os.getloadavg()[0]
    started_at = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    started = time.monotonic()
    for i in range(runs):
        run = folder / f"run{i}"
        run.mkdir()
        shutil.copy(db, run / "movies.json")
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
    return {"runs": runs, "started": started_at, "exit_codes": codes, "wall": wall, "requests": total,
            "refused": refused, "refused_share": refused / total if total else 0.0, "span": span,
            "answered_per_second": answered / span if span else 0.0, "failed_movies": failed,
            "by_status": stats["by_status"], "load": load, "load_after": os.getloadavg()[0]}


def measure(runs: int, movies: int, rate: float, out: Path, root: Path = ROOT, python: str = sys.executable,
            single: bool = True, log=print) -> list[dict]:
    """`runs` runs at once, then (with `single`) one alone: a dict per case, as `_case` makes it."""
    made = synth.make(out / "data", movies, movies)
    cases = []
    with Server(str(made["catalog"]), rate_limit=rate, log_path=str(out / "server.log"), python=python) as server:
        for n in [runs] + ([1] if single and runs != 1 else []):
            log(f"  S5 {n} run(s) at once: running")
            case = _case(n, made["db"], root.resolve(), out / f"{n}-runs", server, python)
            case["limit"] = rate
            cases.append(case)
            log(f"    {case['requests']} requests, {case['refused']} refused ({100 * case['refused_share']:.1f}%), "
                f"{case['answered_per_second']:.1f} answered/s of {rate:g} "
                f"({100 * case['answered_per_second'] / rate:.0f}%) over {case['span']:.1f} s, "
                f"{case['failed_movies']} movies failed, exit codes {case['exit_codes']}")
    return cases


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
    cases = measure(args.runs, args.movies, args.rate_limit, args.out, args.root, args.python, not args.no_single)
    (args.out / "results.json").write_text(json.dumps(cases, indent=2))
    return 0 if all(_nothing_failed(c) for c in cases) else 1


# --- the report's section -----------------------------------------------------------------------------------

def _nothing_failed(case: dict) -> bool:
    return all(code == 0 for code in case["exit_codes"]) and all(n == 0 for n in case["failed_movies"])


def _share(x: float) -> str:
    """A share as a percentage, with two decimals below 1% (1 of 2,005 is not 0.0%)."""
    return f"{100 * x:.2f}%" if 0 < x < 0.01 else f"{100 * x:.1f}%"


def _used(case: dict) -> float:
    return case["answered_per_second"] / case["limit"] if case["limit"] else 0.0


def _failed_cell(case: dict) -> str:
    movies = sum(n for n in case["failed_movies"] if n)
    runs = sum(1 for code, n in zip(case["exit_codes"], case["failed_movies"]) if code != 0 or n is None)
    return f"{movies}" + (f" ({runs} runs failed, exit codes {case['exit_codes']})" if runs else "")


def misses(case: dict) -> list[str]:
    """What of issue 22's targets the case misses (none: met)."""
    out = []
    if case["refused_share"] > MAX_REFUSED:
        out.append(f"{100 * case['refused_share']:.1f}% refused > {100 * MAX_REFUSED:.0f}%")
    if _used(case) < MIN_USED:
        out.append(f"{100 * _used(case):.0f}% of the limit < {100 * MIN_USED:.0f}%")
    if not _nothing_failed(case):
        out.append("something failed")
    return out


def _target_case(result: dict) -> dict | None:
    """The case the targets hold to: the one with the most runs at once, if it is more than one."""
    case = max(result["cases"], key=lambda c: c["runs"], default=None)
    return case if case and case["runs"] > 1 else None


def targets(result: dict) -> list[tuple[str, str, bool]]:
    """(target, figure, met) for the report's Targets table."""
    case = _target_case(result)
    if case is None:
        return []
    return [(f"S5 {case['runs']} runs at once with the defaults on one {case['limit']:g} req/s limit: "
             f"≤ {100 * MAX_REFUSED:.0f}% refused, ≥ {100 * MIN_USED:.0f}% of the limit used, nothing failed",
             f"{_share(case['refused_share'])} refused ({case['refused']} of {case['requests']}), "
             f"{100 * _used(case):.0f}% of the limit ({case['answered_per_second']:.1f} answered/s), "
             f"{_failed_cell(case)} movies failed", not misses(case))]


def table(result: dict) -> str:
    """The Markdown table of the cases: the targets' case with its verdict, the others beside it."""
    target = _target_case(result)
    lines = ["| runs at once | requests | 429s (% of requests) | answered/s | % of the limit | span s | failed movies "
             "| load avg | verdict |", "|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for case in result["cases"]:
        if case is target:
            missed = misses(case)
            verdict = "**not met**: " + "; ".join(missed) if missed else "**met**"
        else:
            verdict = "— (for comparison)"
        lines.append(f"| {case['runs']} | {case['requests']:,} | {case['refused']} "
                     f"({_share(case['refused_share'])}) | {case['answered_per_second']:.1f} | "
                     f"{100 * _used(case):.0f}% | {case['span']:.1f} | {_failed_cell(case)} | "
                     f"{case['load']:.1f}-{case['load_after']:.1f} | {verdict} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
