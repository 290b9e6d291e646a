"""The first lookups of a run, begun before the pipeline is built.

Building Beam's graph and starting its runner take about a second, which a run rate-limited by TMDB can never
make up. So, where the pipeline runs in this very process, the launcher reads the database itself (the
pipeline's read then takes that parse instead of reading the file again), selects the first movies the run
enriches, and starts their lookups at once, with the same client settings (the same process-wide rate limiter
and connection limit). The lookup DoFn then takes each movie's result from here, or makes the lookup itself
for a movie not started yet; a result is taken only when it was made from the same record, for the same
enrichers and with the same query as the DoFn would make it, so the output does not depend on it.
"""

import concurrent.futures
import threading
from typing import Any

from movie_enrichment.io import database, files, lock, progress
from movie_enrichment.io.tmdb import TmdbAuthError, TmdbClient, TmdbSettings
from movie_enrichment.model import Lookup, LookupRequest
from movie_enrichment.transforms import fields
from movie_enrichment.transforms.selection import Selector

_STATS = ("requests", "retries", "throttled", "errors", "cache_hits")
SCAN_PER_LOOKUP = 5


class HeadStart:
    """Lookups of a list of movies in a thread pool of their own, each taken at most once by `adopt`.

    Args:
        settings: the run's client settings (one process: its whole rate).
        lookup: an `enrich.MovieLookup` made with the run's `--field` overrides and pins.
    """

    def __init__(self, settings: TmdbSettings, lookup: Any):
        self._lookup = lookup
        self._client = TmdbClient(settings)
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, settings.max_concurrency),
                                                           thread_name_prefix="tmdb-early")
        self._futures: dict[str, concurrent.futures.Future] = {}
        self._lock = threading.Lock()
        self._abort = threading.Event()
        self._reported: dict[str, int] = {}

    def begin(self, requests: list[LookupRequest], roles: fields.Roles) -> None:
        self._client.open()
        progress.mark("enriching")
        with self._lock:
            for request in requests:
                self._futures[request.key] = self._pool.submit(self._one, request, roles)

    def _one(self, request: LookupRequest, roles: fields.Roles) -> tuple[Lookup, Any, Lookup] | None:
        if self._abort.is_set():
            return None
        hit, query = self._lookup.prepare(request, roles)
        if query is None:
            return None  # an invalid record: the DoFn says so, at no request
        try:
            return hit, query, self._lookup.fetch(self._client, hit, query)
        except TmdbAuthError:
            self._abort.set()
            raise

    def adopt(self, hit: Lookup, query: Any) -> Lookup | None:
        """This movie's lookup when it was begun here from the same record and query (waiting for its end);
        None when it was not, or not started yet (it will not be). Raises TmdbAuthError as the lookup did."""
        with self._lock:
            future = self._futures.pop(hit.key, None)
        if future is None or future.cancel():
            return None
        made = future.result()
        if made is None:
            return None
        early_hit, early_query, done = made
        return done if early_hit == hit and early_query == query else None

    def stats(self) -> dict[str, int]:
        """The client's counts since the last call, for the DoFn's counters."""
        now = self._client.stats.snapshot()
        deltas = {}
        with self._lock:
            for name in _STATS:
                deltas[name] = now[name] - self._reported.get(name, 0)
                self._reported[name] = now[name]
        return deltas

    def stop(self, wait: bool = True) -> None:
        self._abort.set()
        self._pool.shutdown(wait=wait, cancel_futures=True)
        if wait:
            self._client.close()


_ACTIVE: HeadStart | None = None


def start(path: str, selector: Selector, settings: TmdbSettings, lookup: Any, field_overrides=(),
          count: int = 200, on_duplicate_keys: str = database.KEEP_LAST) -> HeadStart | None:
    """Reads the local database file `path` (under its lock, not waiting for another holder), hands the parse to
    the pipeline's read, and begins the lookups of the first `count` movies the selector picks among the first
    records. None when the file cannot be read so (the pipeline's read then tells why) or none is picked."""
    global _ACTIVE  # pylint: disable=global-statement
    try:
        with lock.database_lock(path, timeout=0, command="movie-enrich (reading the database)"):
            signature = files.signature(path)
            snapshot, items = database.load(path)
    except Exception:  # pylint: disable=broad-except
        return None  # the pipeline reads it again, and reports what is wrong in its own words
    database.preload(path, signature, snapshot, items)
    if snapshot.duplicates and on_duplicate_keys != database.KEEP_LAST:
        return None  # the run stops at its read
    requests = []
    # The selection runs again in the pipeline (about 20-50 us a record already enriched): a database where few
    # movies need work is scanned no further than SCAN_PER_LOOKUP records for each lookup begun.
    for key, record in items[:count * SCAN_PER_LOOKUP]:
        needed = selector.needed(key, record)
        if needed:
            requests.append(LookupRequest(key, record, needed))
            if len(requests) >= count:
                break
    if not requests:
        return None
    # The roles as the DoFn detects them on a batch; a movie whose query comes out otherwise there is looked up
    # again by the DoFn.
    roles = fields.detect_roles((r.record for r in requests), dict(field_overrides))
    head = HeadStart(settings, lookup)
    head.begin(requests, roles)
    _ACTIVE = head
    return head


def stop(wait: bool = True) -> None:
    """Ends the active head start: lookups not taken yet are dropped."""
    global _ACTIVE  # pylint: disable=global-statement
    head, _ACTIVE = _ACTIVE, None
    if head is not None:
        head.stop(wait)


def adopt(hit: Lookup, query: Any) -> Lookup | None:
    """`HeadStart.adopt` on the active head start, if any."""
    head = _ACTIVE
    return head.adopt(hit, query) if head is not None else None


def stats() -> dict[str, int]:
    """`HeadStart.stats` of the active head start ({} when none)."""
    head = _ACTIVE
    return head.stats() if head is not None else {}
