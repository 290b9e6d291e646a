"""Scenario L, the language chain, certifications and image languages (issue 24): do they cost requests?

    bench/run.sh --only L                       # in the suite: bench/RESULTS.md
    python -m bench.breadth                     # alone: bench/out/breadth/results.json
    python -m bench.breadth --root /tmp/before  # the same against another checkout

The bundled sample (200 films, searched by title, year and director) is enriched twice against the local server
(its own process, the bundled catalogue), each run with a fresh HTTP cache: once with the defaults, once with
`--language de-DE,en-US --certification_countries DE,US --image_languages de,null,en`, one lookup at a time
(`SERIAL`: with the default 16 at once, two films searching the same title at the same moment may both miss the
cache, so that two runs of the same command differ by a request or two). Then the second run's
database is enriched again with another chain (`--language fr-FR,en-US`) on its own cache: every film is derived
again from the cached details, at no details request. The server's counts per endpoint are read through
GET /__stats. The target is the issue's: the run with the options makes the same requests as the plain one, and
the change of chain none to TMDB's details.
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

from bench.server import API_KEY, Server

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "movie_enrichment" / "testing" / "data" / "sample_movies.json"
# One lookup at a time: two films of the sample search the same title ("Psycho"), and two threads asking it at
# once both miss the HTTP cache, which moves a run's count by one or two from one run to the next.
SERIAL = ["--max_concurrency", "1", "--direct_num_workers", "1"]
OPTIONS = ["--language", "de-DE,en-US", "--certification_countries", "DE,US", "--image_languages", "de,null,en"]
OTHER_CHAIN = ["--language", "fr-FR,en-US"]


def _run(label: str, db: Path, cache: Path, extra: list[str], root: Path, python: str, server: Server,
         folder: Path) -> dict:
    env = {**os.environ, "TMDB_API_KEY": API_KEY, "XDG_CACHE_HOME": str(folder / "xdg-cache"),
           "PYTHONPATH": str(root)}
    argv = [python, "-m", "movie_enrichment", "--input", str(db), "--tmdb_base_url", server.url, "--http_cache",
            str(cache), "--progress", "off", *SERIAL, *extra]
    server.reset()
    started = time.monotonic()
    done = subprocess.run(argv, env=env, cwd=str(root), capture_output=True, text=True)
    wall = time.monotonic() - started
    stats = server.stats()
    return {"label": label, "options": " ".join(extra) or "(defaults)", "exit_code": done.returncode,
            "wall": wall, "requests": stats["total"], "by_endpoint": {k: v for k, v in stats["by_endpoint"].items()
                                                                      if v},
            "error": (done.stderr.strip().splitlines() or [""])[-1][:300] if done.returncode else ""}


def measure(out: Path, root: Path = ROOT, python: str = sys.executable, log=print) -> dict:
    """The three runs; a dict with each run's requests by endpoint and whether the targets hold."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    runs = []
    with Server(None, log_path=str(out / "server.log"), python=python) as server:
        for label, extra, db_name, cache_name in (("plain", [], "plain.json", "plain.sqlite"),
                                                  ("with the options", OPTIONS, "options.json", "options.sqlite"),
                                                  ("another chain, cached", OTHER_CHAIN, "options.json",
                                                   "options.sqlite")):
            db = out / db_name
            if not db.exists():
                shutil.copyfile(SAMPLE, db)
            log(f"  L {label}: running")
            run = _run(label, db, out / cache_name, extra, root, python, server, out)
            log(f"    {run['wall']:.1f} s, {run['requests']} requests {run['by_endpoint']}"
                + (f" FAILED: {run['error']}" if run["exit_code"] else ""))
            runs.append(run)
    return {"movies": len(json.loads(SAMPLE.read_bytes())), "runs": runs}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose movie_enrichment runs")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "breadth")
    args = parser.parse_args(argv)
    result = measure(args.out, args.root.resolve(), args.python)
    (args.out / "results.json").write_text(json.dumps(result, indent=2))
    print(table(result))
    return 0 if not misses(result) else 1


# --- the report's section -----------------------------------------------------------------------------------

def misses(result: dict) -> list[str]:
    """What of the issue's targets the runs miss (none: met)."""
    plain, options, again = result["runs"]
    out = [f"{run['label']} failed" for run in result["runs"] if run["exit_code"]]
    if options["by_endpoint"] != plain["by_endpoint"]:
        out.append(f"{options['requests']} requests with the options against {plain['requests']} plain")
    if again["by_endpoint"].get("movie", 0):
        out.append(f"{again['by_endpoint']['movie']} details requests after a change of chain")
    return out


def targets(result: dict) -> list[tuple[str, str, bool]]:
    """(target, figure, met) for the report's Targets table."""
    plain, options, again = result["runs"]
    return [("L the sample with --language de-DE,en-US --certification_countries DE,US --image_languages "
             "de,null,en makes the requests of a plain run; another chain then makes no details request",
             f"{options['requests']} vs {plain['requests']} requests; "
             f"{again['by_endpoint'].get('movie', 0)} details requests after the change", not misses(result))]


def table(result: dict) -> str:
    """The Markdown table of the three runs, with the verdict."""
    missed = misses(result)
    lines = [f"{result['movies']} films (the bundled sample), one lookup at a time, a fresh HTTP cache for the first "
             "two runs; the third enriches the second's output again with another chain, on the second's cache.", "",
             "| run | options | requests | by endpoint | wall s |", "|---|---|---:|---|---:|"]
    for run in result["runs"]:
        endpoints = ", ".join(f"{k} {v}" for k, v in sorted(run["by_endpoint"].items())) or "none"
        lines.append(f"| {run['label']} | `{run['options']}` | {run['requests']:,} | {endpoints} | "
                     f"{run['wall']:.1f} |")
    lines += ["", "Verdict: " + ("**not met**: " + "; ".join(missed) if missed else "**met**")]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
