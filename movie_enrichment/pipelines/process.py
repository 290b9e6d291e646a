"""What a run does to its own process: the log level, the key kept out of logs, Beam's stderr set aside, the lock."""

import contextlib
import logging
import os
import sys
import tempfile
import threading
from typing import Iterator, TextIO

from movie_enrichment.io import stores
from movie_enrichment.io.tmdb import redact
from movie_enrichment.pipelines.errors import EXIT_BUSY, FatalError

_LOGGER = logging.getLogger(__name__)


def set_log_level(name: str) -> int:
    """Sets the root level (only the entry point does this) from a checked `--log_level`, and returns it."""
    level = logging.getLevelName(name.upper())
    logging.getLogger().setLevel(level)
    if level > logging.INFO:
        # Beam logs a failing DoFn's traceback several times over; the launcher reports it in one line.
        logging.getLogger("apache_beam").setLevel(logging.CRITICAL)
    return level


class _RedactSecret(logging.Filter):
    """Removes the key from every log line that reaches a handler (urllib3 logs request URLs at DEBUG)."""

    def __init__(self, secret: str):
        super().__init__()
        self._secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message, self._secret)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def redact_logs(secret: str) -> None:
    """Keeps `secret` out of every line the root logger's handlers write."""
    for handler in logging.getLogger().handlers:
        handler.addFilter(_RedactSecret(secret))


# The real standard error's descriptor while stderr_aside has set fd 2 aside, under a lock the restoring takes
# too (reentrant: a signal handler in the main thread may write while that thread restores).
_REAL_STDERR: list[int] = []
_ASIDE = threading.RLock()


# sys.stderr as it was before a failed run silenced it (see stderr_aside), until speak_again.
_SILENCED: list[TextIO] = []


def say(line: str) -> None:
    """Writes one line on the real standard error, also from another thread while a run has it set aside, and
    while a failed run's threads are silenced."""
    for stream in (sys.stderr, *_SILENCED):
        stream.flush()
    with _ASIDE:
        os.write(_REAL_STDERR[-1] if _REAL_STDERR else 2, (line + "\n").encode("utf-8", "replace"))


def speak_again() -> None:
    """Gives sys.stderr back once the command has said a failed run's one line (see stderr_aside)."""
    while _SILENCED:
        sys.stderr = _SILENCED.pop()


@contextlib.contextmanager
def stderr_aside(quiet: bool) -> Iterator[TextIO]:
    """Sends what Beam writes to stderr (a failing bundle's traceback, worker processes' logs) to a scratch
    file, and yields a stream on the real stderr for the progress display. The launcher reports errors itself,
    in one line.

    When the run fails or is interrupted, Beam's worker threads may still be printing the tracebacks of other
    failing bundles after fd 2 is back: sys.stderr then stays silenced until the command has said its line
    (`say`, then `speak_again`).
    """
    if not quiet:
        yield sys.stderr
        return
    sys.stderr.flush()
    saved = os.dup(2)
    display = open(os.dup(saved), "w", buffering=1, encoding="utf-8", errors="replace")  # noqa: SIM115
    with tempfile.TemporaryFile() as scratch:
        with _ASIDE:
            os.dup2(scratch.fileno(), 2)
            _REAL_STDERR.append(saved)
        try:
            yield display
        except BaseException:
            sys.stderr.flush()
            _SILENCED.append(sys.stderr)
            sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (threads may hold it)
            raise
        finally:
            sys.stderr.flush()
            with _ASIDE:
                os.dup2(saved, 2)
                _REAL_STDERR.remove(saved)
                os.close(saved)
            display.close()


@contextlib.contextmanager
def one_run_at_a_time(output: str, table: str = stores.DEFAULT_TABLE, timeout: float = 0.0,
                      command: str | None = None) -> Iterator[None]:
    """Holds the output's run lock for the whole run, waiting up to `timeout` seconds for another run
    (`--lock_timeout`); refused, one line names the run that holds it (exit status 3).

    Every store takes it through `io.lock.hold`, with the same waiting and the same holder record: the lock file
    beside a JSON or SQLite file (`io.lock.run_lock`, filelock's flock, released by the kernel when its process
    dies), a session advisory lock in PostgreSQL (released by the server when the session ends). A lock left by
    a killed run is simply taken over, never obeyed forever.
    """
    held = contextlib.ExitStack()
    try:
        if stores.is_store_url(output) and not output.startswith("sqlite:"):
            store = held.enter_context(stores.open_store(output, table, create=False))
            held.enter_context(store.run_lock(timeout, command))
        else:
            path = stores.sqlite_path(output) if output.startswith("sqlite:") else output
            held.enter_context(stores.file_run_lock(path, timeout, command))
    except BaseException as error:
        held.close()
        if isinstance(error, stores.StoreBusy):
            hint = "" if timeout else ", or pass --lock_timeout SECONDS to wait for it"
            raise FatalError(f"{error}{hint}", EXIT_BUSY) from None
        raise
    with held:
        yield
