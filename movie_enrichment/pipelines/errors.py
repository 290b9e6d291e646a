"""What stops a run: the one-line fatal error, the exit statuses, and our own error found inside a runner's."""

import re

from movie_enrichment.io import database, lock, sink, stores
from movie_enrichment.io.tmdb import TmdbAuthError, redact

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 3
EXIT_SOME_FAILED = 4  # completed and written, but more movies failed than --max_failures allows
EXIT_ALL_FAILED = 5  # completed, but every lookup failed (TMDB unreachable, or down): nothing was enriched
EXIT_INTERRUPTED = 130

# What --help and the README say of each status, in one place.
EXIT_STATUSES = (
    (EXIT_OK, "completed; no movie failed (or no more than --max_failures allows); not found and ambiguous "
              "movies are not failures"),
    (EXIT_FAILED, "a fatal problem (one line on standard error); nothing was written"),
    (EXIT_USAGE, "a bad option or option combination"),
    (EXIT_BUSY, "another run holds the output"),
    (EXIT_SOME_FAILED, "completed and written, but more movies failed than --max_failures allows "
                       "(a rerun with --reprocess failed retries them)"),
    (EXIT_ALL_FAILED, "completed, but every lookup failed: TMDB unreachable or failing"),
    (EXIT_INTERRUPTED, "stopped by Ctrl-C or SIGTERM; finished batches kept: rerun the same command to resume"),
)


def parse_max_failures(text: str) -> tuple[float, bool]:
    """`--max_failures`: a count (`10`) or a percentage of the movies looked up (`5%`); returns (limit, percent).

    Raises ValueError with the reason."""
    value = str(text).strip()
    percent = value.endswith("%")
    try:
        limit = float(value[:-1] if percent else value)
    except ValueError:
        raise ValueError(f"--max_failures takes a count (10) or a percentage (5%), got {text!r}") from None
    if limit < 0 or (percent and limit > 100) or (not percent and limit != int(limit)):
        raise ValueError(f"--max_failures takes a count >= 0 or a percentage 0-100%, got {text!r}")
    return limit, percent


def exit_status_for(failed: int, looked_up: int, max_failures: str = "0") -> int:
    """The status of a run that completed: 0, EXIT_SOME_FAILED past --max_failures, EXIT_ALL_FAILED."""
    if failed and failed >= looked_up:
        return EXIT_ALL_FAILED
    limit, percent = parse_max_failures(max_failures)
    allowed = looked_up * limit / 100.0 if percent else limit
    return EXIT_SOME_FAILED if failed > allowed else EXIT_OK

# Errors whose message is already the one line a user should read.
_OWN_ERRORS = (database.DatabaseError, TmdbAuthError, sink.SinkError, stores.StoreError)


class FatalError(Exception):
    """Ends the run with one line on standard error and the given exit status."""

    def __init__(self, message: str, status: int = EXIT_FAILED):
        super().__init__(message)
        self.status = status


def usage(message: str) -> FatalError:
    """A bad command line (exit status 2)."""
    return FatalError(message, EXIT_USAGE)


def from_pipeline_error(error: BaseException, secret: str) -> FatalError:
    """The one line that says why a pipeline failed.

    A runner wraps a DoFn's exception, sometimes only as text (a worker in another process), so our own errors
    are looked for both in the exception's chain and in its message; anything else is named by its innermost
    `SomeError: message` line, with the key taken out.
    """
    seen = error
    while seen is not None:
        if isinstance(seen, lock.LockBusy):  # another program kept the database locked: as busy as another run
            return FatalError(str(seen), EXIT_BUSY)
        if isinstance(seen, _OWN_ERRORS):
            return FatalError(str(seen))
        seen = seen.__cause__ or seen.__context__
    text = str(error)
    for cls in (lock.LockBusy, *_OWN_ERRORS):
        marker = f"{cls.__name__}: "
        if marker in text:
            line = text[text.rindex(marker) + len(marker):].splitlines()[0]
            return FatalError(line.split(" [while running")[0], EXIT_BUSY if cls is lock.LockBusy else EXIT_FAILED)
    reason = redact(_innermost_message(error), secret)
    return FatalError(f"the pipeline failed: {reason} (rerun with --log_level INFO for details)")


def _innermost_message(error: BaseException) -> str:
    """The deepest `SomeError: message` line of a runner's error, which often carries a whole traceback."""
    lines = [line.strip() for line in str(error).splitlines()]
    found = [line for line in lines if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b:?", line)]
    message = found[-1] if found else next((line for line in lines if line), repr(error))
    return message.split(" [while running")[0]
