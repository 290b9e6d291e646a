"""The benchmark suite: every scenario, each run side by side with its peers, written to bench/RESULTS.md.

    bench/run.sh            # the full suite (about 50 minutes on 2 cores)
    bench/run.sh --quick    # small sizes, a couple of minutes
    bench/run.sh --only S5  # some scenarios, merged with the last run's saved results of the others
    bench/run.sh --rerender # the report again from the saved results, running nothing
    python -m bench.run --smoke --out DIR --results DIR/RESULTS.md   # tiny, for tests/test_bench_smoke.py

The scenarios are in bench/scenarios.py, the report's rendering in bench/report.py and its prose in
bench/RESULTS.md.tmpl; this is the command that runs the one and writes the other. The results are saved in
bench/out/results.MODE.pickle: an `--only` run replaces its scenarios' results there and keeps the others';
when the saved results lack some scenario of the mode (bench/out/ is not kept between machines), only the
parts of the scenarios they hold are put into the existing report (bench/splice.py). (Row is imported here
too: the results that earlier versions saved for --rerender name it as this module's.)
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import pickle
import sys
import time
from pathlib import Path
from typing import Any

from bench import fileio, splice
from bench.report import render
from bench.scenarios import MODES, ROOT, RUNNERS, Row, check_outputs, fit_opens, machine, versions

# --- main -------------------------------------------------------------------------------------------------

def _jsonable(results: dict) -> dict:
    def convert(value):
        if isinstance(value, Row):
            data = dataclasses.asdict(value)
            data.pop("timeline", None)
            return data
        if isinstance(value, dict) and "rss" in value:
            value = {k: v for k, v in value.items() if k != "rss"}
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [convert(v) for v in value]
        if isinstance(value, Path):
            return str(value)
        return value
    return convert(results)


def _load(saved: Path) -> dict | None:
    """The saved state of the last runs of a mode, in today's shape (older pickles lack `scenarios` and `merged`)."""
    if not saved.exists():
        return None
    with open(saved, "rb") as handle:
        state = pickle.load(handle)
    state.setdefault("scenarios", [name for name in state["results"] if name in RUNNERS])
    state.setdefault("merged", [])
    return state


def _merge(state: dict | None, results: dict, run: dict) -> dict:
    """`results` of an `--only` run put over the saved state: each scenario run replaces its saved results,
    the others stay; the run joins the state's list of later runs (earlier ones keep only what it did not rerun)."""
    if state is None:
        return {**run, "results": results, "merged": []}
    state["results"].update({name: value for name, value in results.items() if name in run["scenarios"]})
    rerun = set(run["scenarios"])
    state["merged"] = [{**later, "scenarios": [n for n in later["scenarios"] if n not in rerun]}
                       for later in state["merged"]]
    state["merged"] = [later for later in state["merged"] if later["scenarios"]] + [run]
    return state


def _write(state: dict, mode: str, results_path: Path) -> str:
    """Writes the report of the saved state: whole when it holds every scenario of the mode or there is no
    report yet, else only its scenarios' parts put into the existing report (bench/splice.py). Says which."""
    results = state["results"]
    have = [name for name in RUNNERS if name in results]
    if set(MODES[mode]) <= set(have) or not results_path.exists():
        results_path.write_text(render(results, mode, state["started"], state["elapsed"], state["merged"]))
        return "wrote"
    runs = [{key: state[key] for key in ("scenarios", "started", "elapsed")}] + state["merged"]
    text = render(results, mode, state["started"], state["elapsed"], runs)
    results_path.write_text(splice.splice(results_path.read_text(), text, have))
    return f"put {', '.join(have)} into"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_true", help="small sizes, a couple of minutes")
    group.add_argument("--smoke", action="store_true", help="tiny: S1 with 20 movies and every peer (for the tests)")
    parser.add_argument("--only", help="comma-separated scenarios to run: S1,S2,S3,S4,R,C,S5,M,L,D (default: all of the "
                        "mode); their results replace theirs among the saved ones, the others' are kept")
    parser.add_argument("--out", default=str(ROOT / "bench" / "out"), help="scratch folder (default bench/out)")
    parser.add_argument("--rerender", action="store_true",
                        help="write the report again from the last runs' saved results (bench/out/results.MODE.pickle), "
                             "running nothing")
    parser.add_argument("--results", default=None, help="the Markdown report (default bench/RESULTS.md; "
                        "bench/out/RESULTS.<mode>.md for --quick and --smoke)")
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "smoke" if args.smoke else "full"
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    results_path = Path(args.results) if args.results else (
        ROOT / "bench" / "RESULTS.md" if mode == "full" else out / f"RESULTS.{mode}.md")
    config = MODES[mode]
    saved = out / f"results.{mode}.pickle"
    if args.rerender:
        state = _load(saved)
        if state is None:
            parser.error(f"no saved results to render: {saved} (run the suite first)")
        for name, result in state["results"].items():
            if isinstance(result, dict) and result.get("rows"):
                for row in result["rows"]:
                    trace = Path(row.run_dir) / "strace.txt"
                    if row.strace and trace.exists():
                        row.opens = fileio.classify(str(trace), str(Path(row.run_dir) / "movies.json"))
                if name == "S4":
                    result["fit"] = fit_opens(result["rows"])
                for scenario in dict.fromkeys(r.scenario for r in result["rows"]):
                    check_outputs([r for r in result["rows"] if r.scenario == scenario],
                                  out / scenario / "data" / "movies.json")
        print(f"bench: {_write(state, mode, results_path)} {results_path} from {saved}")
        return 0
    wanted = [s.strip() for s in args.only.split(",")] if args.only else list(config)
    for name in wanted:
        if name not in config:
            parser.error(f"scenario {name} is not part of mode {mode}")
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    t0 = time.monotonic()
    log = lambda text: print(text, flush=True)  # noqa: E731
    results: dict[str, Any] = {"machine": machine(), "versions": versions(), "mode": mode}
    log(f"bench: mode {mode}, scenarios {', '.join(wanted)}; scratch in {out}")
    for name in wanted:
        log(f"{name}: preparing data")
        results[name] = RUNNERS[name](config[name], out, log)
    elapsed = time.monotonic() - t0
    run = {"scenarios": wanted, "started": started, "elapsed": elapsed}
    state = _merge(_load(saved), results, run) if args.only else {**run, "results": results, "merged": []}
    # Saved before rendering, so a long run is never lost to a report error: `--rerender` writes it again.
    with open(saved, "wb") as handle:
        pickle.dump(state, handle)
    (out / f"results.{mode}.json").write_text(json.dumps(_jsonable(state["results"]), indent=1, default=str))
    results_path.parent.mkdir(parents=True, exist_ok=True)
    did = _write(state, mode, results_path)
    log(f"bench: done in {elapsed / 60:.1f} min; {did} {results_path}")
    failed = [r for s in wanted for r in results[s].get("rows", []) if r.returncode != 0]
    failed += [c for s in wanted for c in results[s].get("cases", []) if any(c["exit_codes"])]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
