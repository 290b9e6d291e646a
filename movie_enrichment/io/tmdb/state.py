"""The objects every TMDB client of a process shares (limits, throttle, outage breaker, key verdicts), held
through Beam's `Shared` and acquired when a client opens (in its DoFn's `setup()`)."""

import logging
import threading

from apache_beam.utils import shared

from movie_enrichment.io.tmdb.budget import SharedBudget, budget_path, default_dir
from movie_enrichment.io.tmdb.keys import KeyTrust
from movie_enrichment.io.tmdb.limits import Limits, RateLimiter
from movie_enrichment.io.tmdb.outage import Outage
from movie_enrichment.io.tmdb.settings import TmdbSettings

_LOGGER = logging.getLogger(__name__)


class ProcessState:
    """One per process: limits per API, rate and concurrency; a breaker per API; the key verdicts."""

    def __init__(self):
        self._lock = threading.Lock()
        self.keys = KeyTrust()
        self._limits: dict[tuple, Limits] = {}
        self._outages: dict[str, Outage] = {}

    def limits(self, settings: TmdbSettings) -> Limits:
        rate = settings.max_requests_per_second
        key = (settings.base_url, rate, settings.max_concurrency, settings.machine_rate, settings.budget_dir)
        with self._lock:
            found = self._limits.get(key)
            if found is None:
                found = self._limits[key] = Limits(settings.max_concurrency, RateLimiter(rate), _budget(settings))
            return found

    def forget(self) -> None:
        """Drops every object (for tests: a new local server may get a port an earlier one had)."""
        with self._lock:
            self.keys.forget()
            self._limits.clear()
            self._outages.clear()

    def outage(self, base_url: str) -> Outage:
        with self._lock:
            return self._outages.setdefault(base_url, Outage())


def _budget(settings: TmdbSettings) -> SharedBudget | None:
    rate = settings.machine_rate or settings.max_requests_per_second
    if not rate or rate <= 0 or settings.budget_dir is None:
        return None
    path = budget_path(settings.budget_dir or default_dir(), settings.base_url)
    try:
        return SharedBudget(path, rate)
    except OSError as error:  # a read-only home, say: this process keeps its own rate only
        _LOGGER.warning("no rate budget shared with other processes (%s): this run keeps to its own rate", error)
        return None


_SHARED = shared.Shared()


def acquire() -> ProcessState:
    """This process's state (made on first use)."""
    return _SHARED.acquire(ProcessState)


def forget_keys() -> None:
    """Forgets which keys TMDB accepted or refused in this process (for tests)."""
    acquire().keys.forget()


def forget_process_state() -> None:
    """Forgets the limits, breakers and key verdicts of this process (for tests); open clients keep theirs."""
    acquire().forget()
