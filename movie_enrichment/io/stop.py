"""Whether this process was asked to stop (SIGTERM, Ctrl-C, `Run.cancel()`), for the waits and lookups that end early.

A signal is process-wide by nature, so this flag is one module-level event rather than per-DoFn state: the
command's signal handler sets it (`request`), and the threads of a run read it where they would otherwise go on
for seconds: a lookup not started yet is dropped (`check`), and the rate limiter's and a 429's waits end at once
(`sleep`). Nothing else is kept here; a run that starts clears it (`clear`).
"""

import threading

_REQUESTED = threading.Event()


class StopRequested(Exception):
    """Raised where work stops early because this process was asked to stop."""

    def __init__(self):
        super().__init__("stopped: the run was interrupted")


def request() -> None:
    """Asks every thread of this process to stop waiting and starting work (safe in a signal handler)."""
    _REQUESTED.set()


def clear() -> None:
    """A new run of this process starts: nothing is asked of it yet."""
    _REQUESTED.clear()


def requested() -> bool:
    return _REQUESTED.is_set()


def check() -> None:
    """Raises StopRequested when this process was asked to stop."""
    if _REQUESTED.is_set():
        raise StopRequested


def sleep(seconds: float) -> None:
    """time.sleep that ends as soon as this process is asked to stop."""
    _REQUESTED.wait(max(0.0, seconds))
