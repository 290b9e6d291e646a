"""The base of the DoFns that call TMDB: one client per DoFn instance, opened in setup(), closed in teardown()."""

from typing import Any, Callable

import apache_beam as beam
from apache_beam.metrics import Metrics

from movie_enrichment.io.tmdb import TmdbClient, TmdbSettings
from movie_enrichment.model import NAMESPACE

# The client's own counts, as Beam counters of the same names ("errors" is "request_errors" there).
REQUEST_COUNTERS = ("requests", "retries", "throttled", "request_errors", "cache_hits")


class ClientDoFn(beam.DoFn):
    """Holds one TmdbClient per DoFn instance and moves its request counts into Beam counters.

    Args:
        settings: the client's `TmdbSettings`.
        client_factory: builds the client from the settings; tests pass a fake.

    The constructor keeps plain data only; the client exists between setup() and teardown().
    """

    def __init__(self, settings: TmdbSettings, client_factory: Callable[[TmdbSettings], Any] = TmdbClient):
        self._settings = settings
        self._client_factory = client_factory
        self._client: TmdbClient | None = None
        self._reported: dict[str, int] = {}
        self._counters: dict[str, Any] = {}

    def setup(self) -> None:
        self._client = self._client_factory(self._settings)
        self._client.open()
        self._reported = {}
        self._counters = {name: Metrics.counter(NAMESPACE, name) for name in REQUEST_COUNTERS}

    def teardown(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _report_requests(self) -> None:
        """Moves the client's thread-shared counts into Beam counters, from the bundle's own thread."""
        stats = self._client.stats.snapshot()
        stats["request_errors"] = stats.pop("errors")
        for name, value in stats.items():
            delta = value - self._reported.get(name, 0)
            if delta:
                self._counters[name].inc(delta)
            self._reported[name] = value
