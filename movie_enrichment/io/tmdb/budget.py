"""One request rate shared by every process of a machine that asks the same API host: a small file behind a lock.

Runs started side by side on one key (four cron jobs, a run and a `--watch`) would each assume they own the
whole rate, and TMDB would refuse the excess. Each process instead reserves its requests' moments in one file
per API host, under the user's cache folder (`$XDG_CACHE_HOME/movie_enrichment/rate/<host>.json`): the next free
moment and the moments of the last second, taken under a `filelock` lock. The same schedule as
`limits.RateLimiter` (even spacing and a one-second window), across processes. A reservation costs one lock,
one read and one write of a few hundred bytes: 0.6 ms, most of it filelock's own (measured alone; four processes
reserving back to back wait 2.5 ms each, for one another), where two requests at 40/s are 25 ms apart. So every
request takes its own reservation: batches would only add slots that a process reserved and then did not use.

The moments are `time.monotonic()` seconds, the same clock for every process of a machine; a file whose
moments are far in the future (left before a reboot) is taken as empty.
"""

import logging
import os
import re
import threading
import time
import urllib.parse
from typing import Callable

import filelock
import orjson

from movie_enrichment.io import stop

_LOGGER = logging.getLogger(__name__)

RATE_MARGIN = 0.975  # as limits.RATE_MARGIN: under the limit, against timing jitter
STALE_SECONDS = 86400.0  # a budget file untouched this long belongs to no running process
_FUTURE_SECONDS = 300.0  # a reservation further ahead than this is from another boot


def default_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "movie_enrichment", "rate")


def budget_path(folder: str, base_url: str) -> str:
    """The budget file of an API host (its port too: two local servers are two limits)."""
    host = urllib.parse.urlsplit(base_url).netloc.rsplit("@", 1)[-1] or "default"
    return os.path.join(folder, re.sub(r"[^A-Za-z0-9.-]", "_", host) + ".json")


class SharedBudget:
    """The schedule of one API host's requests on this machine, kept in a file every process reads.

    Args:
        path: the budget file (its lock is `<path>.lock`).
        rate: requests/s that every process on the machine holds together.
        now, sleep: the clock (monotonic seconds, the same for every process), injected for tests.
    """

    def __init__(self, path: str, rate: float, now: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = stop.sleep):
        self.path = path
        self._rate = rate * RATE_MARGIN
        self._cap = max(1, int(self._rate))
        self._now, self._sleep = now, sleep
        self._lock = threading.Lock()  # the threads of this process, one at a time, before the file's lock
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        _remove_stale(os.path.dirname(path) or ".", keep=path)
        self._file_lock = filelock.FileLock(path + ".lock", thread_local=False)
        # A file object, not a bare descriptor: it is closed when the budget is dropped (tests drop many).
        self._file = os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT, 0o644), "r+b", buffering=0)

    def acquire(self) -> None:
        """Reserves the next free moment of the machine's schedule and waits for it."""
        wait = self.reserve() - self._now()
        if wait > 0:
            self._sleep(wait)

    def reserve(self) -> float:
        """Reserves the next free moment of the schedule, and returns it."""
        with self._lock, self._file_lock:
            now = self._now()
            state = self._read(now)
            start = max(now, state["next"])
            sent = [t for t in state["sent"] if t > start - 1.0]
            while len(sent) >= self._cap:  # the window: the cap-th latest must have left it
                start = max(start, sent[-self._cap] + 1.0)
                sent = [t for t in sent if t > start - 1.0]
            sent.append(start)
            self._write({"next": start + 1.0 / self._rate, "sent": sent})
        return start

    def _read(self, now: float) -> dict:
        empty = {"next": 0.0, "sent": []}
        try:
            state = orjson.loads(os.pread(self._file.fileno(), 1 << 16, 0) or b"{}")
            state = {"next": float(state["next"]), "sent": [float(t) for t in state["sent"]]}
        except KeyError:
            return empty  # a new file
        except (OSError, ValueError, TypeError) as error:
            _LOGGER.debug("rate budget %s unreadable (%s): starting it afresh", self.path, error)
            return empty
        if state["next"] > now + _FUTURE_SECONDS:
            return empty  # written before this machine's clock started again
        return state

    def _write(self, state: dict) -> None:
        # Under the lock, and read by nobody else meanwhile: an in-place write is enough; a torn file (a crash
        # mid-write) reads as empty, which costs at most one second's burst. The file stays open: opening it
        # anew with truncation cost 2.8 ms a request on ext4 (which flushes a file truncated and rewritten).
        data = orjson.dumps(state)
        os.pwrite(self._file.fileno(), data, 0)
        os.ftruncate(self._file.fileno(), len(data))


def _remove_stale(folder: str, keep: str) -> None:
    """Removes budget files that no process touched for a day (a local test server's port leaves one each)."""
    cutoff = time.time() - STALE_SECONDS
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        path = os.path.join(folder, name)
        if not name.endswith(".json") or path == keep:
            continue
        try:
            if os.stat(path).st_mtime < cutoff:
                os.remove(path)
                os.remove(path + ".lock")
        except OSError:
            pass
