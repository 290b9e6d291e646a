"""Crash safety and resume: SIGKILL a real run at several points, check the invariants, rerun, compare."""

import os
import pathlib
import signal
import subprocess
import sys
import time

import orjson
import pytest
from conftest import API_KEY

from movie_enrichment.testing import synthetic
from movie_enrichment.testing.tmdb_server import TmdbServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]  # real processes, killed and signalled

MOVIES = 480
BATCH = 40
WORKERS = 2
PADDING = 3000  # makes the database a few MB, so the final write lasts long enough to be hit


@pytest.fixture(scope="module")
def slow_server():
    # 15 ms a request with 4 requests in flight per worker: a few seconds of enrichment to aim at.
    with TmdbServer(catalog=synthetic.catalog(MOVIES), api_key=API_KEY, latency_ms=15) as server:
        yield server


def command(db: pathlib.Path, url: str) -> list[str]:
    return [sys.executable, "-m", "movie_enrichment", "--input", str(db), "--tmdb_base_url", url,
            "--no_http_cache", "--progress", "off", "--batch_size", str(BATCH), "--max_concurrency", "4",
            "--max_requests_per_second", "0", "--direct_num_workers", str(WORKERS)]


def environment(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "TMDB_API_KEY"}
    env.update(TMDB_API_KEY=API_KEY, XDG_CACHE_HOME=str(tmp_path / "xdg"))
    return env


def comparable(db: dict) -> dict:
    """Everything but timestamps."""
    out = {}
    for key, record in db.items():
        record = dict(record)
        enrichment = {e: {k: v for k, v in o.items() if k != "updated_at"}
                      for e, o in record.pop("enrichment", {}).items()}
        out[key] = (record, enrichment)
    return out


@pytest.fixture(scope="module")
def reference(slow_server, tmp_path_factory):
    """An uninterrupted run: its output and how many requests it made."""
    folder = tmp_path_factory.mktemp("reference")
    db = folder / "movies.json"
    db.write_bytes(synthetic.database(MOVIES, padding=PADDING))
    slow_server.reset_counts()
    done = subprocess.run(command(db, slow_server.url), env=environment(folder), capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    return orjson.loads(db.read_bytes()), slow_server.counts()["total"]


def wait_for(predicate, process, timeout=120.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if predicate():
            return True
        time.sleep(0.001)
    return False


def checkpoint_files(db: pathlib.Path) -> list:
    return list(pathlib.Path(str(db) + ".checkpoints").glob("batch-*.json"))


def temp_files(db: pathlib.Path) -> list:
    return list(db.parent.glob(f".{db.name}.tmp-*"))


KILL_POINTS = {
    "early": lambda db: (lambda: True),
    "mid_enrichment": lambda db: (lambda: len(checkpoint_files(db)) >= 2),
    "final_write": lambda db: (lambda: bool(temp_files(db))),
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_sigkill_leaves_a_whole_database_and_a_rerun_finishes_the_job(point, slow_server, reference, tmp_path):
    original = synthetic.database(MOVIES, padding=PADDING)
    db = tmp_path / "movies.json"
    db.write_bytes(original)
    slow_server.reset_counts()
    process = subprocess.Popen(command(db, slow_server.url), env=environment(tmp_path),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if point == "early":
        time.sleep(0.5)
        hit = process.poll() is None
    else:
        hit = wait_for(KILL_POINTS[point](db), process)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    killed_requests = slow_server.counts()["total"]

    # Invariant: the database is exactly the previous version or a complete new one, never partial.
    body = db.read_bytes()
    if body != original:
        state = orjson.loads(body)
        assert list(state) == list(orjson.loads(original))
        assert all(r["enrichment"]["metadata"]["status"] == "ok" for r in state.values())
    for backup in (tmp_path / "backups").glob("*.json"):
        assert orjson.loads(backup.read_bytes())  # every backup is usable

    slow_server.reset_counts()
    done = subprocess.run(command(db, slow_server.url), env=environment(tmp_path), capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    want, reference_requests = reference
    assert comparable(orjson.loads(db.read_bytes())) == comparable(want)
    assert not temp_files(db) and not checkpoint_files(db), "temporary files and checkpoints are cleaned up"

    repeated = killed_requests + slow_server.counts()["total"] - reference_requests
    # At most the batches in flight: one per worker, two requests per movie, plus /configuration per worker.
    assert repeated <= WORKERS * BATCH * 2 + 2 * WORKERS, (point, hit, repeated)
    print(f"\n{point}: kill landed={hit}, requests before kill={killed_requests}, "
          f"repeated by the rerun={max(repeated, 0)}")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_sigterm_stops_like_ctrl_c_keeping_finished_batches(sig, slow_server, reference, tmp_path):
    """What systemd, Docker and `timeout` send ends a run as Ctrl-C does: exit 130 within a bounded time, the
    database untouched, the finished batches checkpointed, one line saying so; the same command resumes."""
    original = synthetic.database(MOVIES, padding=PADDING)
    db = tmp_path / "movies.json"
    db.write_bytes(original)
    process = subprocess.Popen(command(db, slow_server.url), env=environment(tmp_path),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert wait_for(lambda: len(checkpoint_files(db)) >= 2, process), "the run got two batches done"
    process.send_signal(sig)
    started = time.monotonic()
    _, stderr = process.communicate(timeout=60)
    stopped_after = time.monotonic() - started

    assert process.returncode == 130, stderr
    assert stopped_after < 20, "in-flight lookups finish or are abandoned within a bounded time"
    assert db.read_bytes() == original, "the database is the old file"
    kept = len(checkpoint_files(db))
    assert kept >= 2
    lines = [line for line in stderr.splitlines() if line.startswith("movie-enrich: interrupted")]
    assert len(lines) == 1, stderr
    assert f"{kept} finished batches kept in {db}.checkpoints" in lines[0]
    assert "rerun the same command to resume" in lines[0]

    done = subprocess.run(command(db, slow_server.url) + ["--report", str(tmp_path / "report.json")],
                          env=environment(tmp_path), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert comparable(orjson.loads(db.read_bytes())) == comparable(reference[0])
    assert orjson.loads((tmp_path / "report.json").read_bytes())["movies_resumed_from_checkpoints"] >= kept * BATCH


def test_a_run_that_does_not_wind_down_in_time_still_says_what_it_kept(slow_server, tmp_path):
    """After SIGTERM a run has cli.GRACE_SECONDS to wind down before the process ends regardless (on a loaded
    machine Beam's threads can take longer): that ending too is one line with what was kept and what to do.
    Here the grace is 0, so the forced ending races the run's own."""
    original = synthetic.database(MOVIES, padding=PADDING)
    db = tmp_path / "movies.json"
    db.write_bytes(original)
    no_grace = ("import sys; from movie_enrichment.pipelines import cli; cli.GRACE_SECONDS = 0.0; "
                "sys.exit(cli.main(sys.argv[1:]))")
    argv = [sys.executable, "-c", no_grace, *command(db, slow_server.url)[3:]]
    process = subprocess.Popen(argv, env=environment(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    assert wait_for(lambda: len(checkpoint_files(db)) >= 2, process), "the run got two batches done"
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)

    assert process.returncode == 130, stderr
    assert db.read_bytes() == original
    lines = [line for line in stderr.splitlines() if line.startswith("movie-enrich: interrupted")]
    assert len(lines) == 1, stderr
    assert f"finished batches kept in {db}.checkpoints; rerun the same command to resume" in lines[0]
