"""Live run counts shared by every thread of a process, and spilled to small files for other processes.

DoFns run in threads of the launcher's process (multi_threading) or in worker processes (multi_processing);
the launcher's display adds up its own counts and the files that worker processes leave in a folder named by
the MOVIE_ENRICH_PROGRESS_DIR environment variable, which those processes inherit.
"""

import os
import threading
import time

import orjson

ENV_DIR = "MOVIE_ENRICH_PROGRESS_DIR"
METRICS_NAMESPACE = "movie_enrichment"  # of the Beam metrics the launcher reads back after a run
FIELDS = ("selected", "done", "failed", "requests", "retries", "throttled", "cache_hits")
_SPILL_SECONDS = 1.0


class Tracker:
    """Thread-safe counters; cheap enough to bump once per request."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(FIELDS, 0)
        self._last_spill = 0.0

    def add(self, **deltas: int) -> None:
        with self._lock:
            for name, delta in deltas.items():
                self._counts[name] += delta
            now = time.monotonic()
            spill = now - self._last_spill >= _SPILL_SECONDS
            if spill:
                self._last_spill = now
                counts = dict(self._counts)
        if spill:
            self._spill(counts)

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def reset(self) -> None:
        with self._lock:
            self._counts = dict.fromkeys(FIELDS, 0)

    def flush(self) -> None:
        self._spill(self.counts())

    def _spill(self, counts: dict[str, int]) -> None:
        directory = os.environ.get(ENV_DIR)
        if not directory or os.getpid() == self._launcher_pid():
            return
        try:
            path = os.path.join(directory, f"worker-{os.getpid()}.json")
            with open(path + ".tmp", "wb") as handle:
                handle.write(orjson.dumps(counts))
            os.replace(path + ".tmp", path)
        except OSError:
            pass  # progress is best effort; it must never fail a run

    @staticmethod
    def _launcher_pid() -> int:
        return int(os.environ.get(ENV_DIR + "_PID", "-1"))


TRACKER = Tracker()


def add(**deltas: int) -> None:
    TRACKER.add(**deltas)


def totals(directory: str | None) -> dict[str, int]:
    """This process's counts plus those spilled by worker processes into `directory`."""
    counts = TRACKER.counts()
    if directory and os.path.isdir(directory):
        for name in os.listdir(directory):
            if not name.endswith(".json"):
                continue
            try:
                with open(os.path.join(directory, name), "rb") as handle:
                    other = orjson.loads(handle.read())
            except (OSError, ValueError):
                continue
            for field in FIELDS:
                counts[field] += int(other.get(field, 0))
    return counts
