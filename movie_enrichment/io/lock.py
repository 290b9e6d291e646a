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
refused quotes it. `hold` is that discipline (try, wait up to a timeout, name the holder, keep a holder record)
over any lock with the small `Lock` interface: the file locks here, and a PostgreSQL store's advisory lock
(`stores/postgres.py`), so that every store's run lock waits and refuses in the same way.
"""

import contextlib
import logging
import os
import socket
import sys
import time
from typing import Callable, Iterator, Protocol

import filelock
import orjson

from movie_enrichment.io import files
from movie_enrichment.model import now_iso

_LOGGER = logging.getLogger(__name__)

DATABASE_SUFFIX = ".lock"
RUN_SUFFIX = ".run.lock"
HOLDER_SUFFIX = ".holder"
# How long a run waits for the database lock by default: other writers hold it for one save, seconds at most.
WRITER_WAIT_SECONDS = 60.0
POLL_SECONDS = 0.05


class LockBusy(RuntimeError):
    """The lock is held by someone else and was not released in time; the message names the holder."""


class Lock(Protocol):
    """A lock that `hold` can take: tried without waiting, with a record of its holder kept beside it."""

    name: str  # how messages name it: the lock file, or the database lock's own name

    def try_acquire(self) -> bool:
        """Takes it if it is free; False if another holds it. OSError when it cannot be made at all."""

    def release(self) -> None:
        """Lets it go; after a failed try, frees what trying took (a no-op for a file)."""

    def read_holder(self) -> dict | None:
        """Who holds (or last held) it, as `write_holder` wrote it; None if unknown."""

    def write_holder(self, who: dict) -> None: ...

    def clear_holder(self, who: dict) -> None:
        """Removes the record if it is still `who`'s."""


def database_lock_path(database: str) -> str:
    return files.resolved(os.path.abspath(database)) + DATABASE_SUFFIX


def run_lock_path(database: str) -> str:
    return files.resolved(os.path.abspath(database)) + RUN_SUFFIX


def holder(lock_file: str) -> dict | None:
    """Who holds (or last held) a lock file, as its holder wrote it; None if unknown."""
    try:
        value = orjson.loads(files.read(lock_file + HOLDER_SUFFIX))
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


def holder_record(command: str | None = None) -> dict:
    """This process as a holder record: pid, host, since (now), command (default: the program's name)."""
    return {"pid": os.getpid(), "host": socket.gethostname(), "since": now_iso(),
            "command": command if command is not None else os.path.basename(sys.argv[0] or "python")}


class FileLock:
    """A `filelock` lock file (`flock`: released by the kernel when its process dies), its holder record in
    `<lock file>.holder`."""

    def __init__(self, lock_file: str):
        self.name = lock_file
        self._lock = filelock.FileLock(lock_file, thread_local=False)

    def try_acquire(self) -> bool:
        try:
            self._lock.acquire(timeout=0)
        except filelock.Timeout:
            return False
        return True

    def release(self) -> None:
        self._lock.release()

    def read_holder(self) -> dict | None:
        return holder(self.name)

    def write_holder(self, who: dict) -> None:
        files.atomic_write(self.name + HOLDER_SUFFIX, orjson.dumps(who) + b"\n")

    def clear_holder(self, who: dict) -> None:
        if (self.read_holder() or {}).get("pid") == who["pid"]:
            with contextlib.suppress(OSError):
                os.remove(self.name + HOLDER_SUFFIX)


def _wait(lock: Lock, timeout: float | None, busy: str, clock: Callable[[], float],
          sleep: Callable[[float], None]) -> None:
    if timeout is not None and timeout <= 0:
        raise LockBusy(f"{busy} ({describe(lock.read_holder())}; lock {lock.name})")
    _LOGGER.warning("Waiting for the lock %s, held by %s", lock.name, describe(lock.read_holder()))
    started = clock()
    while not lock.try_acquire():
        waited = clock() - started
        if timeout is not None and waited >= timeout:
            raise LockBusy(f"{busy}, still after {waited:.0f} s ({describe(lock.read_holder())}; lock {lock.name})")
        sleep(POLL_SECONDS if timeout is None else min(POLL_SECONDS, max(0.0, timeout - waited)))


@contextlib.contextmanager
def hold(lock: Lock, timeout: float | None, busy: str, command: str | None = None, optional: bool = False,
         clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> Iterator[None]:
    """Holds `lock` for the `with` block, its holder record naming this process.

    Args:
        timeout: seconds to wait for another holder; None waits as long as it takes, 0 not at all.
        busy: the refusal's opening words ("another run is already enriching movies.json").
        command: how this holder describes itself to those it makes wait.
        optional: when the lock cannot be made at all (OSError: a folder this user cannot write), go on
            without it, with a warning.
        clock, sleep: injected by tests, so that waiting takes no time.

    Raises:
        LockBusy: still held after `timeout` seconds; one line naming the holder and the lock.
    """
    try:
        taken = lock.try_acquire()
    except OSError as error:
        if not optional:
            raise
        _LOGGER.warning("Cannot create the lock %s (%s); going on without it", lock.name, error)
        yield
        return
    if not taken:
        try:
            _wait(lock, timeout, busy, clock, sleep)
        except BaseException:
            lock.release()  # what trying took (a connection), not a lock
            raise
    who = holder_record(command)
    try:
        try:
            lock.write_holder(who)
        except Exception as error:  # pylint: disable=broad-except - the record only helps those who wait
            _LOGGER.warning("Could not write the holder of the lock %s: %s", lock.name, error)
        yield
    finally:
        try:
            lock.clear_holder(who)
        finally:
            lock.release()


def absent_lock_files(database: str) -> list[str]:
    """The lock files of a local `database` that do not exist yet: those a run is about to create, and may
    remove again (`remove_lock_files`) when it is refused."""
    if not files.is_local(database):
        return []
    return [path for path in (database_lock_path(database), run_lock_path(database)) if not os.path.exists(path)]


def remove_lock_files(paths: list[str]) -> None:
    """Removes these lock files where nobody holds them, each while holding it, as lock-file tools do: a process
    that opened the file before it went and takes it after finds it unlinked (filelock checks `st_nlink` after
    `flock`) and tries again on the new file, so two processes never both hold the lock. A file someone holds or
    waits on is left. Call it only for files this process created (`absent_lock_files`) and no longer holds."""
    for path in paths:
        held = FileLock(path)
        try:
            if not os.path.exists(path) or not held.try_acquire():
                continue
        except OSError:
            continue
        try:
            os.remove(path)
        except OSError as error:
            _LOGGER.debug("Could not remove the lock file %s: %s", path, error)
        finally:
            held.release()


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
    with hold(FileLock(database_lock_path(database)), timeout, f"another process is writing {database}", command,
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
    with hold(FileLock(run_lock_path(database)), timeout, f"another run is already enriching {database}", command):
        yield
