"""bench/report.py with bench/RESULTS.md.tmpl: every scenario's section renders from made-up results, and the
template holds exactly the sections the code asks for (the smoke test only reaches S1; a full run takes minutes)."""

import re
from pathlib import Path

import pytest

from bench import report
from bench.scenarios import PIPELINE, Row

ROOT = Path(__file__).resolve().parents[1]


def _row(scenario, name, wall, *, requests=40, done=20, movies=20, extrapolated=None, opens=None, timeline=None):
    return Row(scenario, name, movies, done, wall, wall / 2, 100 * 2**20, 0, requests, {"200": requests - 2, "429": 2},
               {"configuration": 1, "search/movie": done, "movie": done}, 0.5, timeline or [],
               output_check="= pipeline", opens=opens, extrapolated_wall=extrapolated, code="abc (git 1234567)")


def _profile(wall):
    timeline = [("read: file bytes", 1, 1.0, 1.1, 0.1), ("parse: parse_snapshot #1", 1, 1.1, 1.3, 0.2),
                ("select: SelectMoviesFn (per record)", 20, 1.3, 1.4, 0.05),
                ("lookup: LookupTmdbFn (per batch, HTTP)", 1, 1.5, 3.0, 1.5), ("images: EnrichImagesFn", 20, 3.0, 3.2, 0.1),
                ("parse: parse_snapshot #2", 1, 3.3, 3.4, 0.1), ("sink: serialize", 1, 3.4, 3.5, 0.1),
                ("process exit (probe end)", 1, 4.0, 4.0, 0.0)]
    return {"wall": wall, "returncode": 0, "peak_rss": 120 * 2**20, "rss": [(0.5, 50 * 2**20), (3.4, 120 * 2**20)],
            "timeline": timeline,
            "py_spy": {"rate": 100, "busy_samples": 300, "cpu_seconds": 3.0,
                       "categories": [("sink: serialize (orjson)", 100), ("other", 200)],
                       "top_functions": [("dumps (orjson)", 100)]}}


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
    }


def test_every_scenario_renders_with_its_prose_and_figures():
    text = report.render(_results(), "quick", "2026-12-01 06:00 UTC", 125.0)
    for heading in ("# Benchmark results", "## Targets", "### What bounds the results", "## S1: latency-bound",
                    "### S1: where the pipeline's time goes", "## S2: rate-limited", "## S3: incremental",
                    "## S4: file I/O", "## Requests per movie", "## The peers"):
        assert f"\n{heading}\n" in "\n" + text, heading
    assert "Written by `bench/run.sh --quick` on 2026-12-01 06:00 UTC (mode **quick**; the whole suite took 2.1 min)" \
        in text
    assert "- **S1** (1.6x): with 16 requests in flight, 200 × 2 requests × 20 ms" in text
    assert "the target is out of reach" in text and "With `--max_concurrency 40` the pipeline took 3.0 s" in text
    assert "**≈80.0 (extrapolated)**" in text
    assert "line through the measured points N=3 and N=10: reads = 1 + 1·N" in text
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
