"""The benchmark suite: every scenario, each run side by side with its peers, written to bench/RESULTS.md.

    bench/run.sh            # the full suite (about 12 minutes on 2 cores)
    bench/run.sh --quick    # small sizes, a couple of minutes
    python -m bench.run --smoke --out DIR --results DIR/RESULTS.md   # tiny, for tests/test_bench_smoke.py

The scenarios are in bench/scenarios.py, the report's rendering in bench/report.py and its prose in
bench/RESULTS.md.tmpl; this is the command that runs the one and writes the other. (Row is imported here
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

from bench import fileio
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_true", help="small sizes, a couple of minutes")
    group.add_argument("--smoke", action="store_true", help="tiny: S1 with 20 movies and every peer (for the tests)")
    parser.add_argument("--only", help="comma-separated scenarios to run: S1,S2,S3,S4,R (default: all of the mode)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "out"), help="scratch folder (default bench/out)")
    parser.add_argument("--rerender", action="store_true",
                        help="write the report again from the last run's saved results (bench/out/results.MODE.pickle), "
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
        with open(saved, "rb") as handle:
            state = pickle.load(handle)
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
        results_path.write_text(render(state["results"], mode, state["started"], state["elapsed"]))
        print(f"bench: wrote {results_path} from {saved}")
        return 0
    wanted = [s.strip() for s in args.only.split(",")] if args.only else list(config)
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    t0 = time.monotonic()
    log = lambda text: print(text, flush=True)  # noqa: E731
    results: dict[str, Any] = {"machine": machine(), "versions": versions(), "mode": mode}
    log(f"bench: mode {mode}, scenarios {', '.join(wanted)}; scratch in {out}")
    for name in wanted:
        if name not in config:
            parser.error(f"scenario {name} is not part of mode {mode}")
        log(f"{name}: preparing data")
        results[name] = RUNNERS[name](config[name], out, log)
    elapsed = time.monotonic() - t0
    # Saved before rendering, so a long run is never lost to a report error: `--rerender` writes it again.
    with open(saved, "wb") as handle:
        pickle.dump({"results": results, "started": started, "elapsed": elapsed}, handle)
    (out / f"results.{mode}.json").write_text(json.dumps(_jsonable(results), indent=1, default=str))
    text = render(results, mode, started, elapsed)
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(text)
    log(f"bench: done in {elapsed / 60:.1f} min; wrote {results_path}")
    failed = [r for s in wanted for r in results[s].get("rows", []) if r.returncode != 0]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
