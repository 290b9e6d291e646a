"""Whether TMDB answers at all, per API root and process: the circuit breaker that ends a run with TMDB down in
minutes rather than retrying every movie for hours."""

import logging
import threading
import time
from typing import Callable

from movie_enrichment.io import stop
from movie_enrichment.io.tmdb.settings import TmdbError

_LOGGER = logging.getLogger(__name__)

# Requests in a row that failed after their retries, with no answer of any kind between them, before TMDB is
# taken as down. With 16 in flight, one flaky film cannot reach it; a dead server reaches it within one round.
DOWN_AFTER_FAILURES = 10
PROBE_SECONDS = 5.0
# The longest a request waiting out an outage goes without looking whether its process was asked to stop.
_STOP_CHECK_SECONDS = 0.5


class Postponed(Exception):
    """TMDB was found down while this request waited for its turn: it waits with the others instead."""


class Outage:
    """A circuit breaker shared by the threads of a process.

    After DOWN_AFTER_FAILURES requests in a row failed with no answer or a 5xx (each after its retries), TMDB
    is down: requests wait, and one every `probe_seconds` goes out to see whether it is back; an answer of any
    kind ends the outage and the waiting requests go on. Once it has lasted `down_after` seconds, requests fail
    at once without being sent (the probe still goes out every `probe_seconds`), so the rest of the run's movies
    fail quickly and a later run retries them.

    Args:
        probe_seconds: between two probes while TMDB is down.
        now: the clock (monotonic seconds), injected for tests.
    """

    def __init__(self, probe_seconds: float = PROBE_SECONDS, now: Callable[[], float] = time.monotonic):
        self.probe_seconds = probe_seconds
        self._now = now
        self._cond = threading.Condition()
        self._in_a_row = 0
        self._since = 0.0  # when the first failure of the current run of failures was seen
        self._last_error = ""
        self._probing = False
        self._next_probe = 0.0
        self._gave_up = False

    def before(self, down_after: float) -> bool:
        """Called before a request: returns whether it is the outage's probe; waits while TMDB is down; raises
        TmdbError once it has been down for `down_after` seconds."""
        with self._cond:
            while self.is_down():
                stop.check()  # a process asked to stop leaves the wait (at most _STOP_CHECK_SECONDS later)
                now = self._now()
                if not self._probing and now >= self._next_probe:
                    self._probing = True
                    return True
                if now - self._since >= down_after:
                    if not self._gave_up:
                        self._gave_up = True
                        _LOGGER.warning("TMDB unreachable for %.0f s: the remaining movies fail without a request "
                                        "(a later run, or --reprocess failed, retries them)", now - self._since)
                    raise TmdbError(f"TMDB unreachable for {now - self._since:.0f} s (every request failed; last: "
                                    f"{self._last_error}): not asked")
                until_give_up = max(self._since + down_after - now, 0.05)
                self._cond.wait(min(_STOP_CHECK_SECONDS, until_give_up if self._probing else
                                    min(max(self._next_probe - now, 0.05), until_give_up)))
            return False

    def is_down(self) -> bool:
        return self._in_a_row >= DOWN_AFTER_FAILURES

    def answered(self, probe: bool) -> bool:
        """TMDB answered (any status but a 5xx): the outage, if any, is over. Returns whether this ended one."""
        with self._cond:
            ended = False
            if self._in_a_row or probe:
                if self.is_down():
                    _LOGGER.warning("TMDB answers again after %.0f s; the run goes on", self._now() - self._since)
                    ended = True
                self._in_a_row, self._probing, self._gave_up = 0, False, False
                self._cond.notify_all()
            return ended

    def failed(self, probe: bool, error: str) -> bool:
        """No answer, or a 5xx, after the request's retries. Returns whether this made TMDB down."""
        with self._cond:
            if self._in_a_row == 0:
                self._since = self._now()
            self._in_a_row += 1
            self._last_error = error
            went_down = self._in_a_row == DOWN_AFTER_FAILURES
            if went_down:
                _LOGGER.warning("TMDB is not answering: %d requests in a row failed (last: %s); requests wait for "
                                "it, checked every %.0f s", self._in_a_row, error, self.probe_seconds)
            if probe or went_down:
                self._probing = False
                self._next_probe = self._now() + self.probe_seconds
            self._cond.notify_all()
            return went_down

    def settle(self, probe: bool) -> None:
        """The request ended without telling (interrupted): another may probe."""
        if probe:
            with self._cond:
                self._probing = False
                self._cond.notify_all()
