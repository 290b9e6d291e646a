"""What a TMDB client reports while it works: the events, its own counts (`ClientStats`), and the live progress.

The client tells its observers once per event and counts nothing itself: `TmdbClient(settings)` feeds both its
`stats` and a `ProgressObserver`, so every request is counted once in each.
"""

import dataclasses
import threading
from typing import Iterable

from movie_enrichment.io import progress


class Observer:
    """The events of a client; every method does nothing unless overridden."""

    def on_sent(self, endpoint: str) -> None:
        """An attempt went out (a retry too)."""

    def on_retry(self) -> None:
        """An attempt is followed by another (a 5xx, a broken body, a 429...)."""

    def on_throttled(self) -> None:
        """TMDB answered 429."""

    def on_failure(self) -> None:
        """A request failed after all its retries."""

    def on_cache_hit(self) -> None:
        """An answer came from the response cache, without a request."""

    def on_unreachable(self, down: bool) -> None:
        """TMDB was found down (True), or answers again (False)."""


@dataclasses.dataclass
class ClientStats(Observer):
    """Counts kept across threads; the DoFns turn them into Beam counters from their own thread."""

    requests: int = 0  # every attempt sent, retries included
    retries: int = 0
    throttled: int = 0  # 429 answers
    errors: int = 0  # requests that failed after all retries
    cache_hits: int = 0
    by_endpoint: dict = dataclasses.field(default_factory=dict)
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, repr=False, compare=False)

    def snapshot(self) -> dict:
        return {"requests": self.requests, "retries": self.retries, "throttled": self.throttled,
                "errors": self.errors, "cache_hits": self.cache_hits}

    def on_sent(self, endpoint: str) -> None:
        with self._lock:
            self.requests += 1
            self.by_endpoint[endpoint] = self.by_endpoint.get(endpoint, 0) + 1

    def on_retry(self) -> None:
        with self._lock:
            self.retries += 1

    def on_throttled(self) -> None:
        with self._lock:
            self.throttled += 1

    def on_failure(self) -> None:
        with self._lock:
            self.errors += 1

    def on_cache_hit(self) -> None:
        with self._lock:
            self.cache_hits += 1


class ProgressObserver(Observer):
    """The run's live figures (`io/progress`), which the launcher's display and status file read."""

    def on_sent(self, endpoint: str) -> None:
        progress.add(requests=1)

    def on_retry(self) -> None:
        progress.add(retries=1)

    def on_throttled(self) -> None:
        progress.add(throttled=1)

    def on_cache_hit(self) -> None:
        progress.add(cache_hits=1)

    def on_unreachable(self, down: bool) -> None:
        progress.add(unreachable=1 if down else -1)


class Observers(Observer):
    """Tells every observer of a client, in order."""

    def __init__(self, observers: Iterable[Observer]):
        self._all = tuple(observers)

    def _tell(self, event: str, *args) -> None:
        for observer in self._all:
            getattr(observer, event)(*args)

    def on_sent(self, endpoint: str) -> None:
        self._tell("on_sent", endpoint)

    def on_retry(self) -> None:
        self._tell("on_retry")

    def on_throttled(self) -> None:
        self._tell("on_throttled")

    def on_failure(self) -> None:
        self._tell("on_failure")

    def on_cache_hit(self) -> None:
        self._tell("on_cache_hit")

    def on_unreachable(self, down: bool) -> None:
        self._tell("on_unreachable", down)
