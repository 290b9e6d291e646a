"""The progress file (<output>.progress.json) over a run of the command: what a poller in any language sees."""

import os
import subprocess
import sys
import time

import orjson
import pytest
from conftest import API_KEY, load

from movie_enrichment.io import progress
from movie_enrichment.testing.tmdb_server import TmdbServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FIGURES = {"movies_selected", "movies_done", "movies_failed", "percent", "requests", "requests_per_second",
           "throttled_429", "retries", "cache_hits", "elapsed_seconds", "eta_seconds"}


def start(db, url, tmp_path, *extra, key=API_KEY) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "TMDB_API_KEY"}
    env.update(TMDB_API_KEY=key, XDG_CACHE_HOME=str(tmp_path / "xdg"))
    return subprocess.Popen(
        [sys.executable, "-m", "movie_enrichment", "--input", str(db), "--tmdb_base_url", url, "--no_http_cache",
         "--batch_size", "10", "--max_requests_per_second", "40", "--progress", "off", *extra],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def readings(path, process: subprocess.Popen) -> list[bytes]:
    """Every distinct content of the file while the process runs, read as a poller would."""
    seen: list[bytes] = []
    while process.poll() is None:
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except FileNotFoundError:
            data = None
        if data is not None and (not seen or seen[-1] != data):
            seen.append(data)
        time.sleep(0.05)
    with open(path, "rb") as handle:
        data = handle.read()
    if data != seen[-1]:
        seen.append(data)
    return seen


def test_progress_file_rises_through_the_phases_and_ends_marked_final(sample_db, tmp_path):
    path = str(sample_db) + ".progress.json"
    with TmdbServer(api_key=API_KEY, latency_ms=20) as server:
        process = start(sample_db, server.url, tmp_path)
        raw = readings(path, process)
    _, stderr = process.communicate()
    assert process.returncode == 0, stderr

    statuses = [orjson.loads(r) for r in raw]  # every reading parses: the file is replaced, never half-written
    assert len(statuses) >= 5
    first, last = statuses[0], statuses[-1]
    assert first["phase"] in ("starting", "reading") and first["movies_done"] == 0
    for status in statuses:
        assert status["schema"] == progress.STATUS_SCHEMA
        assert status["pid"] == process.pid
        assert status["run_id"] == first["run_id"] and status["started_at"] == first["started_at"]
        assert FIGURES <= set(status)
        assert status["final"] == (status is last)
    phases = [s["phase"] for s in statuses]
    order = [progress.PHASES.index(p) for p in phases]
    assert order == sorted(order), phases
    assert {"reading", "enriching", "done"} <= set(phases)
    done = [s["movies_done"] for s in statuses]
    assert done == sorted(done)
    assert any(0 < s["movies_done"] < 200 for s in statuses), "figures seen mid-run"
    assert any(s["eta_seconds"] for s in statuses)

    report = load(str(sample_db) + ".report.json")
    assert last["state"] == "succeeded" and last["exit_status"] == 0 and last["error"] is None
    assert last["movies_done"] == last["movies_selected"] == report["movies_looked_up"] == 200
    assert last["requests"] == report["requests"]
    assert last["report"] == str(sample_db) + ".report.json" and report["run_id"] == last["run_id"]
    assert not [name for name in os.listdir(sample_db.parent) if ".tmp" in name], "no temporary file left"
    assert API_KEY not in b"".join(raw).decode()


def test_a_failed_run_leaves_its_one_line_error_in_the_file(sample_db, tmp_path):
    path = str(sample_db) + ".progress.json"
    with TmdbServer(api_key=API_KEY) as server:
        process = start(sample_db, server.url, tmp_path, key="a-wrong-key")
        _, stderr = process.communicate(timeout=120)

    status = load(path)
    assert process.returncode == 1
    assert status["phase"] == "failed" and status["state"] == "failed" and status["final"]
    assert status["exit_status"] == 1
    # (The command's one-line rule is the end-to-end suite's to check; here: the file says the same line.)
    said = [line for line in stderr.splitlines() if line.startswith("movie-enrich: error: ")]
    assert said == [f"movie-enrich: error: {status['error']}"]
    assert "a-wrong-key" not in stderr + orjson.dumps(status).decode()


def test_a_run_that_cannot_take_the_lock_leaves_the_running_runs_file_alone(sample_db, tmp_path):
    path = str(sample_db) + ".progress.json"
    with TmdbServer(api_key=API_KEY, latency_ms=20) as server:
        first = start(sample_db, server.url, tmp_path)
        while (progress.read_json(path) or {}).get("movies_done", 0) == 0:
            assert first.poll() is None, first.communicate()
            time.sleep(0.05)
        owner = progress.read_json(path)["run_id"]
        second = start(sample_db, server.url, tmp_path)
        _, stderr = second.communicate(timeout=120)
        during = progress.read_json(path)
        first.communicate(timeout=120)

    assert second.returncode == 3, stderr
    assert during["run_id"] == owner and during["pid"] == first.pid and not during["final"]
    assert first.returncode == 0 and load(path)["run_id"] == owner


def test_progress_file_option_puts_it_elsewhere_and_a_dry_run_writes_none(sample_db, tmp_path):
    elsewhere = tmp_path / "status" / "run.json"
    elsewhere.parent.mkdir()
    with TmdbServer(api_key=API_KEY) as server:
        dry = start(sample_db, server.url, tmp_path, "--dry_run")
        dry.communicate(timeout=120)
        process = start(sample_db, server.url, tmp_path, "--progress_file", str(elsewhere))
        _, stderr = process.communicate(timeout=120)

    assert dry.returncode == 0 and process.returncode == 0, stderr
    assert load(elsewhere)["phase"] == "done"
    assert not os.path.exists(str(sample_db) + ".progress.json")
