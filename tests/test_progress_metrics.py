"""Progress from every runner: where the local tracker sees no worker, Beam's metrics of the running pipeline."""

import os
import socket
import subprocess
import sys
import time

import pytest
from apache_beam.metrics.execution import MetricKey, MetricResult
from apache_beam.metrics.metricbase import MetricName
from conftest import API_KEY, load

from movie_enrichment.io import progress
from movie_enrichment.pipelines import metrics


def _counter(name: str, committed: int | None, attempted: int, step: str = "MatchTmdb") -> MetricResult:
    return MetricResult(MetricKey(step, MetricName(progress.METRICS_NAMESPACE, name)), committed, attempted)


class _Metrics:
    def __init__(self, values: dict[str, int]):
        self._values = values

    def query(self, _filter=None) -> dict:
        return {"counters": [_counter(name, None, value) for name, value in self._values.items()],
                "distributions": [], "gauges": []}


class _RunningJob:
    """A PipelineResult as a portable runner's: it keeps the first metrics it was given, and the job's counters
    grow between two looks."""

    def __init__(self, snapshots: list[dict[str, int]]):
        self._snapshots = list(snapshots)
        self._metrics = None
        self.asked = 0

    def metrics(self):
        if self._metrics is None:
            self.asked += 1
            self._metrics = _Metrics(self._snapshots[min(self.asked, len(self._snapshots)) - 1])
        return self._metrics


@pytest.fixture(autouse=True)
def quiet_tracker():
    progress.TRACKER.reset()
    yield
    progress.TRACKER.reset()


def test_counters_sum_every_step_and_prefer_committed_values():
    class Result:
        def metrics(self):
            class Query:
                def query(self, _filter=None):
                    return {"counters": [_counter("requests", 7, 9, "MatchTmdb"),
                                         _counter("requests", None, 2, "EnrichImages")]}
            return Query()

    assert metrics.counters(Result()) == {"requests": 9}


def test_progress_counts_are_read_from_the_pipelines_counters():
    counts = metrics.progress_counts({"selected": 10, "lookup_ok": 5, "lookup_not_found": 1, "lookup_failed": 2,
                                      "resumed": 1, "resumed_failed": 1, "requests": 17, "retries": 3,
                                      "throttled": 1, "cache_hits": 4, "metadata_ok": 5})
    assert counts == {"selected": 10, "done": 9, "failed": 3, "requests": 17, "retries": 3, "throttled": 1,
                      "cache_hits": 4, "enriching": 1, "writing": 0, "unreachable": 0, "images_downloaded": 0,
                      "images_skipped": 0, "images_failed": 0, "images_bytes": 0}
    assert set(counts) == set(progress.FIELDS + progress.MARKS)


def test_where_the_local_tracker_sees_nothing_the_running_pipelines_metrics_are_shown(tmp_path, monkeypatch):
    monkeypatch.setattr(metrics, "POLL_SECONDS", 0.0)
    job = _RunningJob([{"selected": 200, "lookup_ok": 40, "requests": 80},
                       {"selected": 200, "lookup_ok": 150, "lookup_failed": 2, "requests": 300}])
    live = metrics.LiveProgress(str(tmp_path))
    assert live()["selected"] == 0, "nothing to show before the pipeline runs"
    live.follow(job)
    first, second = live(), live()
    assert (first["done"], first["selected"], first["requests"]) == (40, 200, 80)
    assert (second["done"], second["failed"], second["requests"]) == (152, 2, 300), "each look asks again"


def test_metrics_are_asked_at_most_every_poll_interval(tmp_path, monkeypatch):
    monkeypatch.setattr(metrics, "POLL_SECONDS", 3600.0)
    job = _RunningJob([{"lookup_ok": 1}, {"lookup_ok": 2}])
    live = metrics.LiveProgress(str(tmp_path))
    live.follow(job)
    assert [live()["done"] for _ in range(3)] == [1, 1, 1] and job.asked == 1
    live.follow(job)  # the run has ended: its final figures are read at once
    assert live()["done"] == 2


def test_the_local_tracker_wins_where_it_sees_the_workers(tmp_path, monkeypatch):
    monkeypatch.setattr(metrics, "POLL_SECONDS", 0.0)
    job = _RunningJob([{"selected": 999, "lookup_ok": 999}])
    live = metrics.LiveProgress(str(tmp_path))
    live.follow(job)
    progress.add(selected=3, done=1)
    assert (live()["selected"], live()["done"]) == (3, 1)
    assert job.asked == 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.e2e
@pytest.mark.slow
def test_the_portable_runner_with_an_external_worker_pool_shows_the_runs_progress(tmdb_server, sample_db, tmp_path):
    """How Flink, Spark and Dataflow run Python: SDK workers this process does not see. The run's progress file
    (the figures the display showed last) and its report come from Beam's metrics."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "TMDB_API_KEY"}
    # The pool starts each worker with the `python` it finds first: this environment's, which has the package.
    env.update(PATH=os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""), TMDB_API_KEY=API_KEY,
               XDG_CACHE_HOME=str(tmp_path / "xdg"))
    pool = subprocess.Popen([sys.executable, "-m", "apache_beam.runners.worker.worker_pool_main",
                             "--service_port", str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        time.sleep(1.0)
        done = subprocess.run(
            [sys.executable, "-m", "movie_enrichment", "--input", str(sample_db), "--tmdb_base_url",
             tmdb_server.url, "--no_http_cache", "--progress", "lines", "--progress_interval", "1",
             "--max_requests_per_second", "0", "--runner", "PortableRunner", "--job_endpoint", "embed",
             "--environment_type", "EXTERNAL", "--environment_config", f"localhost:{port}"],
            env=env, capture_output=True, text=True, timeout=120)  # a broken worker environment hangs
    finally:
        pool.terminate()
        pool.wait(timeout=30)
    assert done.returncode == 0, done.stderr
    status = load(str(sample_db) + ".progress.json")
    assert status["state"] == "succeeded"
    assert status["movies_selected"] == status["movies_done"] == 200, status
    assert status["requests"] > 0
    report = load(str(sample_db) + ".report.json")
    assert report["movies_looked_up"] == 200 and report["requests"] == status["requests"]
