"""A run stopped by SIGTERM winds down by itself: in-flight lookups end within seconds, the finished batches stay
checkpointed, the progress file ends `cancelled` with exit status 130, and the same command resumes."""

import signal
import subprocess
import time

import orjson
import pytest
from conftest import API_KEY
from test_crash_resume import (  # the same database and command as the crash tests
    BATCH,
    MOVIES,
    checkpoint_files,
    command,
    environment,
    wait_for,
)

from movie_enrichment.io import stop
from movie_enrichment.io.tmdb.limits import Limits, RateLimiter
from movie_enrichment.pipelines import cli
from movie_enrichment.testing import synthetic
from movie_enrichment.testing.tmdb_server import TmdbServer

# Well under cli.GRACE_SECONDS: a run that only ends by the grace timer's forced exit fails this test.
WIND_DOWN_SECONDS = 4.0


@pytest.fixture(scope="module")
def slower_server():
    # 60 ms a request: every worker thread is in a lookup when the signal comes.
    with TmdbServer(catalog=synthetic.catalog(MOVIES), api_key=API_KEY, latency_ms=60) as server:
        yield server


@pytest.mark.e2e
@pytest.mark.slow  # real processes, signalled
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signalled_run_winds_down_by_itself_and_says_it_was_cancelled(sig, slower_server, tmp_path):
    assert WIND_DOWN_SECONDS < cli.GRACE_SECONDS
    # An array, one record per line (as vega-datasets writes its tables): seen taking the grace timer's 8 s.
    records = list(orjson.loads(synthetic.database(MOVIES)).values())
    original = ("[\n" + ",\n".join("    " + orjson.dumps(r).decode() for r in records) + "\n]\n").encode()
    db = tmp_path / "movies.json"
    db.write_bytes(original)
    status_path = tmp_path / "status.json"
    # Paced, four batches at once, each lasting seconds: Beam's engine waits for the bundles in flight before it
    # lets the main thread go, so the run used to end only by the grace timer, its progress file still "running".
    argv = command(db, slower_server.url) + ["--progress_file", str(status_path), "--max_requests_per_second", "40",
                                             "--direct_num_workers", "4"]
    process = subprocess.Popen(argv, env=environment(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    assert wait_for(lambda: len(checkpoint_files(db)) >= 1, process), "the run got a batch done"
    time.sleep(1.0)  # into the next batches: each lasts about 8 s (4 x 40 movies, 2 requests each, at 40/s)
    process.send_signal(sig)
    started = time.monotonic()
    _, stderr = process.communicate(timeout=60)
    stopped_after = time.monotonic() - started
    print(f"\n{sig.name}: signal to exit {stopped_after:.2f} s")

    assert process.returncode == 130, stderr
    assert stopped_after < WIND_DOWN_SECONDS, f"the run wound down by itself ({stopped_after:.1f} s)"
    status = orjson.loads(status_path.read_bytes())
    assert (status["final"], status["state"], status["exit_status"]) == (True, "cancelled", 130), status
    assert db.read_bytes() == original, "the database is the old file"
    kept = len(checkpoint_files(db))
    assert kept >= 1
    lines = [line for line in stderr.splitlines() if line.startswith("movie-enrich: interrupted")]
    assert len(lines) == 1, stderr
    assert "rerun the same command to resume" in lines[0]

    done = subprocess.run(command(db, slower_server.url) + ["--report", str(tmp_path / "report.json")],
                          env=environment(tmp_path), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    report = orjson.loads((tmp_path / "report.json").read_bytes())
    assert report["movies_resumed_from_checkpoints"] >= kept * BATCH
    after = orjson.loads(db.read_bytes())
    assert [r["title"] for r in after] == [r["title"] for r in records]
    assert all(r["enrichment"]["metadata"]["status"] == "ok" for r in after)


@pytest.fixture
def stopping():
    stop.request()
    yield
    stop.clear()


@pytest.mark.usefixtures("stopping")
def test_a_stopping_process_sends_no_more_requests_and_its_waits_end():
    clock = [100.0]
    limiter = RateLimiter(1.0, now=lambda: clock[0])  # the default sleep: io.stop's, which a stop ends
    limits = Limits(2, limiter)
    with pytest.raises(stop.StopRequested):
        with limits.slot():
            pass
    limiter._next = clock[0] + 3600.0  # the next rate slot an hour away
    with pytest.raises(stop.StopRequested):
        limiter.acquire()
    with pytest.raises(stop.StopRequested):
        limits.after_429(clock[0], 60.0)  # a 60 s Retry-After
