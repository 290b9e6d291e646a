"""The locks beside a database file, for the runs of this tool and for the other programs that write the file.

Two `filelock` locks (an advisory `flock` on POSIX, which the kernel releases when its process dies, so a killed
holder's lock is taken over, never obeyed forever):

- `<database>.lock`, the database lock: held for as long as one read or one save of the file lasts (seconds).
  A run holds it while it reads the database and while its sink checks and replaces the file; a scraper or an
  admin server holds it while it loads, changes and saves the file (`database_lock`). Holders of this lock never
  lose each other's changes.
- `<database>.run.lock`, the run lock: held by a run from start to end, so that one run at a time enriches a
  database (`run_lock`). Other writers never take it: they may save while a run is going on, and the run's
  sink merges its results onto what they saved.

Whoever takes a lock writes who it is (pid, host, start time, command) into `<lock file>.holder`, and whoever is
refused quotes it.
"""

import contextlib
import datetime
import logging
import os
import socket
import sys
import time
from typing import Iterator

import filelock
import orjson

from movie_enrichment.io import files

_LOGGER = logging.getLogger(__name__)

DATABASE_SUFFIX = ".lock"
RUN_SUFFIX = ".run.lock"
HOLDER_SUFFIX = ".holder"
# How long a run waits for the database lock by default: other writers hold it for one save, seconds at most.
WRITER_WAIT_SECONDS = 60.0


class LockBusy(RuntimeError):
    """The lock is held by someone else and was not released in time; the message names the holder."""


def database_lock_path(database: str) -> str:
    return os.path.abspath(database) + DATABASE_SUFFIX


def run_lock_path(database: str) -> str:
    return os.path.abspath(database) + RUN_SUFFIX


def holder(lock_file: str) -> dict | None:
    """Who holds (or last held) a lock, as its holder wrote it; None if unknown."""
    try:
        with open(lock_file + HOLDER_SUFFIX, "rb") as handle:
            value = orjson.loads(handle.read())
        return value if isinstance(value, dict) else None
    except (OSError, orjson.JSONDecodeError):
        return None


def describe(who: dict | None) -> str:
    """`pid 4242 on host, since 2026-12-01T06:40:00Z: movie-enrich --input movies.json`."""
    if not who:
        return "holder unknown"
    text = f"pid {who.get('pid', '?')}"
    if who.get("host") and who.get("host") != socket.gethostname():
        text += f" on {who['host']}"
    if who.get("since"):
        text += f", since {who['since']}"
    if who.get("command"):
        text += f": {who['command']}"
    return text


@contextlib.contextmanager
def _hold(lock_file: str, timeout: float | None, command: str | None, busy: str,
          optional: bool = False) -> Iterator[None]:
    lock = filelock.FileLock(lock_file, thread_local=False)
    wait = -1 if timeout is None else max(0.0, timeout)
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        if wait == 0:
            raise LockBusy(f"{busy} ({describe(holder(lock_file))}; lock {lock_file})") from None
        _LOGGER.warning("Waiting for the lock %s, held by %s", lock_file, describe(holder(lock_file)))
        started = time.monotonic()
        try:
            lock.acquire(timeout=wait, poll_interval=0.05)
        except filelock.Timeout:
            raise LockBusy(f"{busy}, still after {time.monotonic() - started:.0f} s "
                           f"({describe(holder(lock_file))}; lock {lock_file})") from None
    except OSError as error:
        if not optional:
            raise
        # A database in a folder this user cannot write (an input read elsewhere): nobody can lock it here.
        _LOGGER.warning("Cannot create the lock file %s (%s); going on without it", lock_file, error)
        yield
        return
    me = {"pid": os.getpid(), "host": socket.gethostname(),
          "since": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
          "command": command if command is not None else os.path.basename(sys.argv[0] or "python")}
    try:
        files.atomic_write(lock_file + HOLDER_SUFFIX, orjson.dumps(me) + b"\n")
    except OSError as error:
        _LOGGER.warning("Could not write the lock holder file %s: %s", lock_file + HOLDER_SUFFIX, error)
    try:
        yield
    finally:
        if (holder(lock_file) or {}).get("pid") == me["pid"]:
            with contextlib.suppress(OSError):
                os.remove(lock_file + HOLDER_SUFFIX)
        lock.release()


@contextlib.contextmanager
def database_lock(database: str, timeout: float | None = None, command: str | None = None) -> Iterator[None]:
    """Holds the database lock of `database` (the file `<database>.lock`) for the `with` block.

    A program that writes a database which movie-enrich also enriches holds this lock while it loads, changes
    and saves the file; a run then never reads the file half-saved, and its sink never replaces the file between
    that program's load and its save. A run holds it for seconds (its read, its final write), never for the
    whole run.

    Args:
        database: the database file (a local path; nothing is locked for other paths).
        timeout: seconds to wait for another holder; None waits as long as it takes, 0 not at all.
        command: how this holder describes itself to those it makes wait (default: the program's name).

    Raises:
        LockBusy: the lock stayed held for `timeout` seconds; the message names its holder.
    """
    if not files.is_local(database):
        yield
        return
    with _hold(database_lock_path(database), timeout, command, f"another process is writing {database}",
               optional=True):
        yield


@contextlib.contextmanager
def run_lock(database: str, timeout: float = 0.0, command: str | None = None) -> Iterator[None]:
    """Holds the run lock of `database` (`<database>.run.lock`): one enrichment run at a time.

    Args:
        timeout: seconds to wait for a run in progress to finish (`--lock_timeout`); 0 fails at once.

    Raises:
        LockBusy: another run holds it; the message names that run.
    """
    if not files.is_local(database):
        _LOGGER.warning("Cannot lock %s (not a local path): make sure no other run writes it", database)
        yield
        return
    with _hold(run_lock_path(database), timeout, command, f"another run is already enriching {database}"):
        yield
