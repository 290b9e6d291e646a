"""Beam's metrics of a pipeline, read as this project's figures: the summary's counters, and the live progress
on runners whose workers this process cannot see."""

import logging
import threading
import time

import apache_beam as beam

from movie_enrichment.io import database, progress
from movie_enrichment.model import NAMESPACE, STATUSES

_LOGGER = logging.getLogger(__name__)

# Metrics queries can be remote calls (a job service, Dataflow's API): at most one every this many seconds.
POLL_SECONDS = 2.0


def duplicate_keys(result) -> list[tuple[str, int]]:
    """The keys the input held more than once (the first 20, in the file's order), with how often."""
    try:
        query = result.metrics().query(beam.metrics.MetricsFilter().with_namespace(NAMESPACE).with_name(
            database.DUPLICATE_NAMES_METRIC))
    except Exception as error:  # pylint: disable=broad-except
        _LOGGER.info("This runner gives no metrics: %s", error)
        return []
    values: set[str] = set()
    for found in query.get("string_sets", ()):
        values |= set(found.committed or found.attempted or ())
    return database.duplicates_from_metric(values)


def string_set(result, name: str) -> set[str]:
    """The values of one string-set metric of our namespace (empty where the runner gives no metrics)."""
    try:
        query = result.metrics().query(beam.metrics.MetricsFilter().with_namespace(NAMESPACE).with_name(name))
    except Exception as error:  # pylint: disable=broad-except
        _LOGGER.info("This runner gives no metrics: %s", error)
        return set()
    values: set[str] = set()
    for found in query.get("string_sets", ()):
        values |= set(found.committed or found.attempted or ())
    return values


def counters(result) -> dict[str, int]:
    """Every counter of our namespace, summed over steps: committed values where the runner has them."""
    # PortableRunner's result keeps the first answer of its job service; a running job's needs asking again.
    if getattr(result, "_metrics", None) is not None:
        result._metrics = None  # pylint: disable=protected-access
    try:
        query = result.metrics().query(beam.metrics.MetricsFilter().with_namespace(NAMESPACE))
    except Exception as error:  # pylint: disable=broad-except
        _LOGGER.info("This runner gives no metrics: %s", error)
        return {}
    totals: dict[str, int] = {}
    for counter in query["counters"]:
        value = counter.committed if counter.committed is not None else counter.attempted
        totals[counter.key.metric.name] = totals.get(counter.key.metric.name, 0) + (value or 0)
    return totals


def progress_counts(counters: dict[str, int]) -> dict[str, int]:
    """The local tracker's figures (`progress.FIELDS` and `MARKS`) as Beam's counters give them."""
    done = sum(counters.get(f"lookup_{status}", 0) for status in STATUSES) + counters.get("resumed", 0)
    counts = {name: counters.get(name, 0) for name in ("selected", "requests", "retries", "throttled", "cache_hits")}
    counts.update(done=done, failed=counters.get("lookup_failed", 0) + counters.get("resumed_failed", 0),
                  enriching=int(done > 0 or counts["requests"] > 0), writing=0,
                  unreachable=0)  # the workers' view of TMDB is not among Beam's counters
    counts.update(images_downloaded=counters.get("images_downloaded", 0),
                  images_skipped=counters.get("images_skipped", 0),
                  images_failed=counters.get("images_download_failed", 0),  # images_failed: the movies'
                  images_bytes=counters.get("images_bytes", 0))
    return counts


class LiveProgress:
    """The counts the progress display shows, from every runner.

    The local tracker sees this process and the worker processes it started (multi_processing); on a runner
    whose workers live elsewhere (a portable runner's worker pool, Flink, Spark, Dataflow) it sees nothing, and
    the counts come from Beam's metrics of the running pipeline instead, once `follow` has its result.

    Args:
        spill_dir: the folder where local worker processes leave their counts.
    """

    def __init__(self, spill_dir: str | None):
        self._spill_dir = spill_dir
        self._result = None
        self._lock = threading.Lock()
        self._polled = (float("-inf"), dict.fromkeys(progress.FIELDS + progress.MARKS, 0))

    def follow(self, result) -> None:
        """Reads the figures of this running pipeline where the local tracker sees nothing."""
        with self._lock:
            self._result = result
            self._polled = (float("-inf"), self._polled[1])  # a finished run's figures are read at once

    def __call__(self) -> dict[str, int]:
        local = progress.totals(self._spill_dir)
        with self._lock:
            if any(local[name] for name in progress.FIELDS) or self._result is None:
                return local
            when, counts = self._polled
            if time.monotonic() - when >= POLL_SECONDS:
                counts = progress_counts(counters(self._result))
                self._polled = (time.monotonic(), counts)
            return dict(counts)
