"""Live run counts shared by every thread of a process, and spilled to small files for other processes.

DoFns run in threads of the launcher's process (multi_threading) or in worker processes (multi_processing);
the launcher's display adds up its own counts and the files that worker processes leave in a folder named by
the MOVIE_ENRICH_PROGRESS_DIR environment variable, which those processes inherit. The run's live figures are
also kept in one small JSON file (`<output>.progress.json`) that any program can poll: see `write_status`.
"""

import os
import threading
import time

import orjson

from movie_enrichment import model
from movie_enrichment.io import files
from movie_enrichment.model import NAMESPACE

ENV_DIR = "MOVIE_ENRICH_PROGRESS_DIR"
METRICS_NAMESPACE = NAMESPACE  # of the Beam metrics the launcher reads back after a run
# `unreachable`: 1 while this process finds TMDB down (`tmdb.Outage`), 0 once it answers again.
# The images_ fields: --download_images' images stored, already there, failed, and the bytes written.
IMAGE_FIELDS = ("images_downloaded", "images_skipped", "images_failed", "images_bytes")
FIELDS = ("selected", "done", "failed", "requests", "retries", "throttled", "cache_hits", "unreachable") + IMAGE_FIELDS
# Stages a run has reached, as 0/1 marks beside the counts: the first lookup batch, the database write.
MARKS = ("enriching", "writing")
_SPILL_SECONDS = 1.0


class Tracker:
    """Thread-safe counters; cheap enough to bump once per request."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(FIELDS + MARKS, 0)
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

    def mark(self, stage: str) -> None:
        """Records that this run has reached `stage` (one of MARKS), at once, for the display to show."""
        with self._lock:
            if self._counts[stage]:
                return
            self._counts[stage] = 1
            counts = dict(self._counts)
        self._spill(counts)

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def reset(self) -> None:
        with self._lock:
            self._counts = dict.fromkeys(FIELDS + MARKS, 0)

    def flush(self) -> None:
        self._spill(self.counts())

    def _spill(self, counts: dict[str, int]) -> None:
        directory = os.environ.get(ENV_DIR)
        if not directory or os.getpid() == self._launcher_pid():
            return
        try:
            # Not durable: rewritten every second, and worthless once its process is gone.
            files.atomic_write(os.path.join(directory, f"worker-{os.getpid()}.json"), orjson.dumps(counts),
                               durable=False)
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
            for field in FIELDS + MARKS:
                counts[field] += int(other.get(field, 0))
    return counts


def mark(stage: str) -> None:
    TRACKER.mark(stage)


# -- the progress file ---------------------------------------------------------------------------------------
STATUS_SCHEMA = 1
PHASES = ("starting", "reading", "enriching", "writing", "done", "failed", "cancelled")
FINAL_PHASES = {"done": "succeeded", "failed": "failed", "cancelled": "cancelled"}


class StatusFile:
    """The run's live figures in one small JSON file, replaced atomically at each update.

    Args:
        path: the file (`<output>.progress.json` by default); local, or any FileSystems path.
        fields: what stays the same for the whole run (run_id, pid, started_at, output, report, ...).

    One run owns the file at a time (it is written only under the output's lock). At the end it is kept,
    marked `"final": true` with the phase `done`, `failed` or `cancelled`, so a reader that comes late still
    learns how the run ended; the next run replaces it.
    """

    def __init__(self, path: str, **fields):
        self.path = path
        self._lock = threading.Lock()
        self._status = {"schema": STATUS_SCHEMA, **fields, "phase": "starting", "final": False,
                        "state": "running", "exit_status": None, "error": None}

    @property
    def run_id(self) -> str | None:
        return self._status.get("run_id")

    def update(self, **changes) -> dict:
        """Merges `changes` into the status and writes it; never fails the run (progress is best effort)."""
        with self._lock:
            if self._status["final"]:
                return dict(self._status)
            self._status.update(changes, updated_at=now_iso())
            if self._status["phase"] in FINAL_PHASES:
                self._status.update(final=True, state=FINAL_PHASES[self._status["phase"]])
            status = dict(self._status)
            try:
                write_status(self.path, status)
            except Exception:  # pylint: disable=broad-except
                pass
            return status

    def withdraw(self, previous: bytes | None) -> None:
        """Puts back what the file held before this run (`previous`; None: no file), for a run refused before
        it wrote anything (a bad input file): such a run leaves nothing beside the database. Later updates are
        ignored."""
        with self._lock:
            self._status["final"] = True
            try:
                if previous is None:
                    os.remove(self.path)
                else:
                    files.atomic_write(self.path, previous, durable=False)
            except OSError:
                pass


def previous_content(path: str) -> bytes | None:
    """What a progress file holds before a run replaces it (None when there is none), for `withdraw`."""
    try:
        return files.read(path)
    except OSError:
        return None


def write_status(path: str, status: dict) -> None:
    """Replaces the file in one step, so that a reader sees the previous figures or the new ones, never half.
    Not flushed to disk: it is rewritten every few seconds, and a crash is told by its `pid`, not its figures."""
    files.atomic_write(path, orjson.dumps(status, option=orjson.OPT_INDENT_2) + b"\n", durable=False)


def read_json(path: str) -> dict | None:
    """A small JSON file written atomically (the progress file, the report), or None when there is none."""
    try:
        return orjson.loads(files.read(path))
    except (OSError, ValueError):
        return None


def now_iso() -> str:
    """The time stamps of the progress file and of the run handles (`model.now_iso` to the millisecond: they
    change several times a second)."""
    return model.now_iso("milliseconds")
