"""bench/report.py with bench/RESULTS.md.tmpl: every scenario's section renders from made-up results, and the
template holds exactly the sections the code asks for (the smoke test only reaches S1; a full run takes minutes);
bench/run.py merges an `--only` run into the saved results, and bench/splice.py puts some scenarios' parts into
an existing report."""

import pickle
import re
from pathlib import Path

import pytest

from bench import report, splice
from bench import run as bench_run
from bench.scenarios import PIPELINE, Row

ROOT = Path(__file__).resolve().parents[1]


def _row(scenario, name, wall, *, requests=40, done=20, movies=20, extrapolated=None, opens=None, timeline=None):
    return Row(scenario, name, movies, done, wall, wall / 2, 100 * 2**20, 0, requests, {"200": requests - 2, "429": 2},
               {"configuration": 1, "search/movie": done, "movie": done}, 0.5, timeline or [],
               output_check="= pipeline", opens=opens, extrapolated_wall=extrapolated, code="abc (git 1234567)")


def _profile(wall):
    timeline = [("read: file bytes", 1, 1.0, 1.1, 0.1), ("parse: parse_snapshot #1", 1, 1.1, 1.3, 0.2),
                ("select: SelectMoviesFn (per record)", 20, 1.3, 1.4, 0.05),
                ("lookup: LookupTmdbFn (per batch, HTTP)", 1, 1.5, 3.0, 1.5), ("images: ImagesEnricher", 20, 3.0, 3.2, 0.1),
                ("parse: parse_snapshot #2", 1, 3.3, 3.4, 0.1), ("sink: serialize", 1, 3.4, 3.5, 0.1),
                ("process exit (probe end)", 1, 4.0, 4.0, 0.0)]
    return {"wall": wall, "returncode": 0, "peak_rss": 120 * 2**20, "rss": [(0.5, 50 * 2**20), (3.4, 120 * 2**20)],
            "timeline": timeline,
            "py_spy": {"rate": 100, "busy_samples": 300, "cpu_seconds": 3.0,
                       "categories": [("sink: serialize (orjson)", 100), ("other", 200)],
                       "top_functions": [("dumps (orjson)", 100)]}}


def _case(runs, requests, refused, per_second, failed=0, exit_code=0):
    return {"runs": runs, "started": "2026-12-07 18:14 UTC", "exit_codes": [exit_code] * runs, "wall": 55.0,
            "requests": requests, "refused": refused, "refused_share": refused / requests, "span": 51.0,
            "answered_per_second": per_second, "failed_movies": [failed] + [0] * (runs - 1), "by_status": {},
            "load": 1.5, "load_after": 2.5, "limit": 40}


def _s5(four=None):
    return {"cfg": {"runs": 4, "movies": 250, "rate": 40}, "code": "abc (git 1234567)",
            "cases": [four or _case(4, 2005, 1, 39.0), _case(1, 501, 0, 38.8)]}


def _results(loop_wall=8.0):
    opens = {"db_read": 1, "db_write": 1, "backup_read": 1, "backup_write": 1, "checkpoint_write": 1,
             "checkpoint_read": 0, "fsync_reopen": 2, "directory": 3}
    polls = [(t / 10, {"total": 4 * t, "by_status": {"200": 4 * t}}) for t in range(0, 301)]
    return {
        "machine": {"nproc": 2, "cpu": "a CPU", "ram": "24.0 GiB", "os": "Linux"},
        "versions": {"python": "3.11", "apache-beam": "2.77.0"}, "mode": "quick",
        "S1": {"cfg": {"size": 200, "latency": 20}, "data": {"db_bytes": 50_000},
               "rows": [_row("S1", PIPELINE, 5.0), _row("S1", "load_once", loop_wall),
                        _row("S1", "n_plus_one", 2.0, done=5, extrapolated=80.0), _row("S1", "thread_pool", 4.0),
                        _row("S1", PIPELINE + " --max_concurrency 40", 3.0)],
               "profile": _profile(6.0)},
        "S2": {"cfg": {"size": 200, "latency": 20, "rate": 40}, "data": {"db_bytes": 50_000},
               "rows": [_row("S2", PIPELINE, 31.0, requests=120, timeline=polls),
                        _row("S2", "thread_pool", 30.0, requests=120, timeline=polls)]},
        "S3": {"cfg": {"size": 5000, "pending": 50}, "data": {"db_bytes": 2_000_000},
               "rows": [_row("S3", PIPELINE, 8.0), _row("S3", "load_once", 4.0)], "profile": _profile(9.0)},
        "S4": {"cfg": {"size": 5000, "ns": [10, 50]},
               "rows": [_row("S4-10", PIPELINE, 5.0, opens=opens), _row("S4-10", "n_plus_one", 5.0, done=10, opens={
                        **opens, "db_read": 11, "db_write": 11}), _row("S4-50", PIPELINE, 5.0, opens=opens),
                        _row("S4-50", "n_plus_one", 5.0, done=3, movies=50, opens={**opens, "db_read": 4})],
               "fit": {"points": [3, 10], "fit": {"db_read": (1.0, 1.0), "db_write": (1.0, 1.0)}}},
        "R": {"cfg": {"size": 100}, "rows": [_row("R-no-id", PIPELINE, 3.0), _row("R-known-id", PIPELINE, 3.0)]},
        "S5": _s5(),
        "M": {"cfg": {"size": 2000, "found_one_in": 20}, "data": {"db_bytes": 400_000},
              "rows": [_row("M", "all matched", 30.0, done=2000, movies=2000),
                       _row("M", "most unmatched (1 in 20 found)", 10.0, done=2000, movies=2000)],
              "review_bytes": {"most unmatched (1 in 20 found)": 700_000}},
    }


def test_every_scenario_renders_with_its_prose_and_figures():
    text = report.render(_results(), "quick", "2026-12-01 06:00 UTC", 125.0)
    for heading in ("# Benchmark results", "## Targets", "### What bounds the results", "## S1: latency-bound",
                    "### S1: where the pipeline's time goes", "## S2: rate-limited", "## S3: incremental",
                    "## S4: file I/O", "## Requests per movie", "## S5: several processes on one API key",
                    "## M: memory with most films unmatched", "## The peers"):
        assert f"\n{heading}\n" in "\n" + text, heading
    assert "Written by `bench/run.sh --quick` on 2026-12-01 06:00 UTC (mode **quick**; the whole suite took 2.1 min)" \
        in text
    assert "- **S1** (1.6x): with 16 requests in flight, 200 × 2 requests × 20 ms" in text
    assert "the target is out of reach" in text and "With `--max_concurrency 40` the pipeline took 3.0 s" in text
    assert "**≈80.0 (extrapolated)**" in text
    assert "line through the measured points N=3 and N=10: reads = 1 + 1·N" in text
    assert "| M 2,000 new films, most unmatched: peak RSS no higher than all matched | 100 MiB vs 100 MiB (1.00x) " \
        "| **met** |" in text
    assert "| `most unmatched (1 in 20 found)` | 2,000 | 2,000 | 10.0 | 100 | 0.7 |" in text
    assert "$" not in text and not text.endswith("\n\n")


def test_the_other_branches_of_the_prose():
    results = _results(loop_wall=300.0)
    results["S4"] = {"cfg": {"size": 5000, "ns": [10]}, "skipped": "strace is not installed", "rows": []}
    results["S3"]["rows"][0].code = "def (git 7654321)"
    text = report.render(results, "full", "2026-12-01 06:00 UTC", 600.0)
    assert "Written by `bench/run.sh` on" in text
    assert "the bound leaves room for 20x" in text
    assert "Skipped: strace is not installed" in text
    assert "**it changed during the suite**" in text


def test_the_template_holds_exactly_the_sections_the_code_uses():
    code = (ROOT / "bench" / "report.py").read_text()
    used = set(re.findall(r"""(?:prose|_lines)\(\s*"([a-z0-9_]+)\"""", code))
    used |= {name for pair in re.findall(r'prose\("(\w+)" if .*? else "(\w+)"\)', code) for name in pair}
    assert used == set(report._sections())


def test_a_missing_value_is_an_error_not_a_blank():
    with pytest.raises(KeyError):
        report.prose("s4_skipped")


def test_s5_holds_the_four_runs_to_issue_22s_targets_and_shows_one_run_beside_them():
    text = report.render(_results(), "quick", "2026-12-01 06:00 UTC", 125.0)
    assert ("| S5 4 runs at once with the defaults on one 40 req/s limit: ≤ 5% refused, ≥ 80% of the limit used, "
            "nothing failed | 0.05% refused (1 of 2005), 98% of the limit (39.0 answered/s), 0 movies failed | "
            "**met** |") in text
    assert "| 4 | 2,005 | 1 (0.05%) | 39.0 | 98% | 51.0 | 0 | 1.5-2.5 | **met** |" in text
    assert "| 1 | 501 | 0 (0.0%) | 38.8 | 97% | 51.0 | 0 | 1.5-2.5 | — (for comparison) |" in text
    assert "Measured 2026-12-07 18:14 UTC (load average 1.5-2.5 over the cases)" in text

    results = _results()
    results["S5"] = _s5(_case(4, 2000, 120, 30.0, failed=2))
    text = report.render(results, "quick", "2026-12-01 06:00 UTC", 125.0)
    assert "| **not met**: 6.0% refused > 5%; 75% of the limit < 80%; something failed |" in text
    assert "6.0% refused (120 of 2000), 75% of the limit (30.0 answered/s), 2 movies failed | **MISSED** |" in text


def test_results_saved_with_the_old_probe_names_still_find_their_phases():
    old = _profile(6.0)
    old["timeline"] = [(name.replace("images: ImagesEnricher", "images: EnrichImagesFn"), *rest)
                       for name, *rest in old["timeline"]]
    assert report.phases(old["timeline"]) == report.phases(_profile(6.0)["timeline"])
    assert any(label == "after the last lookup, until the enrichers are done" for label, _ in
               report.phases(old["timeline"]))


def _saved(folder, results, scenarios, started="2026-12-02 03:33 UTC", merged=()):
    with open(folder / "results.full.pickle", "wb") as handle:
        pickle.dump({"results": results, "started": started, "elapsed": 2844.0, "scenarios": scenarios,
                     "merged": list(merged)}, handle)


def test_a_partial_run_merges_over_the_saved_results_and_a_full_set_renders_whole(tmp_path, monkeypatch):
    full = _results()
    s5 = full.pop("S5")
    state = bench_run._merge(None, {"S5": _s5(_case(4, 2000, 120, 30.0))}, {"scenarios": ["S5"], "started": "x",
                                                                           "elapsed": 60.0})
    assert set(state["results"]) == {"S5"} and state["merged"] == []

    saved = {"results": dict(full), "started": "2026-12-02 03:33 UTC", "elapsed": 2844.0, "scenarios": list(full),
             "merged": [{"scenarios": ["S1", "S5"], "started": "2026-12-05 10:00 UTC", "elapsed": 300.0}]}
    run = {"scenarios": ["S5"], "started": "2026-12-07 18:14 UTC", "elapsed": 78.0}
    state = bench_run._merge(saved, {"S5": s5, "machine": {}}, run)
    assert state["results"]["S5"] is s5 and state["results"]["S1"] is full["S1"]
    assert state["results"]["machine"] == full["machine"]  # the run above's machine and versions stay
    assert state["merged"] == [{"scenarios": ["S1"], "started": "2026-12-05 10:00 UTC", "elapsed": 300.0}, run]

    report_path = tmp_path / "RESULTS.md"
    report_path.write_text("an older report\n")
    monkeypatch.setitem(bench_run.MODES, "full", {name: {} for name in ("S1", "S2", "S3", "S4", "R", "S5")})
    assert bench_run._write(state, "full", report_path) == "wrote"
    text = report_path.read_text()
    assert text.startswith("# Benchmark results\n") and "## S1: latency-bound" in text
    assert "- S5 from `bench/run.sh --only S5` on 2026-12-07 18:14 UTC (1.3 min); the other scenarios from the run " \
        "above" in text
    assert "- S1 from `bench/run.sh --only S1` on 2026-12-05 10:00 UTC (5.0 min)" in text


def test_without_the_other_scenarios_saved_only_the_run_ones_are_put_into_the_report(tmp_path, monkeypatch):
    old = report.render(_results(), "full", "2026-12-02 03:33 UTC", 2844.0)
    report_path = tmp_path / "RESULTS.md"
    report_path.write_text(old.replace("| 4 | 2,005 |", "| 4 | 9,999 |") + "\nsomething written by hand\n")
    _saved(tmp_path, {"machine": {"nproc": 2, "cpu": "another CPU", "ram": "1 GiB", "os": "Linux"},
                      "versions": {"python": "3.12"}, "mode": "full", "S5": _s5(_case(4, 2000, 120, 30.0))},
           ["S5"], started="2026-12-07 18:14 UTC")
    monkeypatch.setattr(bench_run, "ROOT", tmp_path)
    assert bench_run.main(["--rerender", "--out", str(tmp_path), "--results", str(report_path)]) == 0
    text = report_path.read_text()

    assert "| 4 | 9,999 |" not in text and "| 4 | 2,000 | 120 (6.0%) | 30.0 | 75% |" in text
    assert text.count("## S5: several processes on one API key") == 1 and text.count("| S5 4 runs at once") == 1
    assert "6.0% refused (120 of 2000)" in text
    # The rest stays as it was: the header, the machine, the other scenarios, what was written by hand.
    assert "a CPU" in text and "another CPU" not in text and "something written by hand" in text
    assert text.replace("\n- S5 from `bench/run.sh --only S5` on 2026-12-07 18:14 UTC (47.4 min); the other scenarios "
                        "from the run above", "").split("## S5:")[0] == old.split("## S5:")[0].replace(
        "0.05% refused (1 of 2005), 98% of the limit (39.0 answered/s), 0 movies failed | **met**",
        "6.0% refused (120 of 2000), 75% of the limit (30.0 answered/s), 0 movies failed | **MISSED**")
    # Again: the same file (the line saying when S5 ran is replaced, not added twice).
    assert bench_run.main(["--rerender", "--out", str(tmp_path), "--results", str(report_path)]) == 0
    assert report_path.read_text() == text


def test_a_scenario_the_report_lacks_goes_before_the_peers_with_its_targets_and_findings():
    results = _results()
    old = report.render({k: v for k, v in results.items() if k not in ("S2", "S5")}, "full", "then", 60.0)
    new = report.render(results, "full", "now", 60.0)
    text = splice.splice(old, new, ["S2", "S5"])
    assert text.index("## S2: rate-limited") < text.index("## S3: incremental")
    assert text.index("## S5: several") < text.index("## The peers")
    targets = text.split("### What bounds the results")[0]
    assert "| S2 429 answers < 1% of requests |" in targets and "| S5 4 runs at once" in targets
    findings = text.split("### What bounds the results")[1].split("###")[0]
    assert "- **S2**" in findings and findings.index("- **S2**") > findings.index("- **S1**")
    assert text == new.replace("on now", "on then")
