"""The TMDB v3 client: its endpoints, the change feed, the response cache, key trust and the retry of an answer
that cannot be used (429, a body cut off, invalid JSON)."""

import datetime
import logging
import re
import time
import urllib.parse
from typing import Any, Callable, Sequence

import orjson
import urllib3

from movie_enrichment.io import response_cache
from movie_enrichment.io.tmdb import state, throttle
from movie_enrichment.io.tmdb.keys import key_id
from movie_enrichment.io.tmdb.observers import ClientStats, Observer, Observers, ProgressObserver
from movie_enrichment.io.tmdb.outage import Postponed
from movie_enrichment.io.tmdb.settings import ServerFailing, TmdbAuthError, TmdbError, TmdbSettings, redact
from movie_enrichment.io.tmdb.transport import USER_AGENT, LimitedRetry, pool_manager

_LOGGER = logging.getLogger(__name__)

# What the details call appends (TMDB takes up to 20 parts), whatever the enrichers: one request feeds both, and,
# sent without `language` nor `include_image_language`, it holds every translation and image language, so one
# cached body serves any later run, whatever its enrichers, language chain, countries or image order.
DETAILS_PARTS = ("credits", "external_ids", "images", "keywords", "release_dates", "translations", "videos")
APPEND_FOR = {"metadata": DETAILS_PARTS, "images": DETAILS_PARTS}
CHANGES_WINDOW_DAYS = 14  # /movie/changes answers at most 14 days at once
CHANGES_MAX_PAGES = 500

_PATH_KIND = [
    (re.compile(r"^/search/movie"), "search/movie"),
    (re.compile(r"^/find/"), "find"),
    (re.compile(r"^/movie/changes"), "movie/changes"),
    (re.compile(r"^/movie/\d+/images"), "movie/images"),
    (re.compile(r"^/movie/\d+$"), "movie"),
    (re.compile(r"^/configuration"), "configuration"),
]


class TmdbClient:
    """A TMDB client used as a context manager: it opens its session on entry and closes it on exit.

    Args:
        settings: a `TmdbSettings`.
        observers: told of every request, retry, 429, failure and cache hit, besides the client's own `stats`;
            None: the run's live progress (`ProgressObserver`).
    """

    def __init__(self, settings: TmdbSettings, observers: Sequence[Observer] | None = None):
        self.settings = settings
        self.stats = ClientStats()
        self._observer = Observers([self.stats, *(observers if observers is not None else [ProgressObserver()])])
        self._key = key_id(settings.base_url, settings.api_key)
        self._http: urllib3.PoolManager | None = None
        self._retry: LimitedRetry | None = None
        self._state: state.ProcessState | None = None
        self._cache: response_cache.ResponseCache | None = None

    def __enter__(self) -> "TmdbClient":
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def open(self) -> None:
        self._state = state.acquire()  # the process's limits, breaker and key verdicts
        self._limits = self._state.limits(self.settings)
        self._outage = self._state.outage(self.settings.base_url)
        self._keys = self._state.keys
        self._retry = LimitedRetry.make(self.settings.retries, self.settings.backoff, self._limits, self._observer,
                                        self._outage)
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if self.settings.is_bearer_token:
            headers["Authorization"] = f"Bearer {self.settings.api_key}"
        self._http = pool_manager(self.settings.base_url, max(1, self.settings.max_concurrency), headers)
        self._cache = self.open_cache()

    def open_cache(self) -> response_cache.ResponseCache | None:
        """The process's cache for these settings (its file and table created if need be), or None."""
        if not self.settings.cache_path:
            return None
        return response_cache.shared(self.settings.cache_path, self.settings.cache_days * 86400.0,
                                     self.settings.cache_max_bytes)

    def close(self) -> None:
        if self._cache is not None:
            self._cache.flush()  # what this client fetched is stored before its DoFn goes away
            self._cache = None
        if self._http is not None:
            self._http.clear()
            self._http = None
        self._state = None

    # -- the calls ---------------------------------------------------------------------------------------

    def get(self, path: str, params: dict[str, Any] | None = None,
            shrink: Callable[[dict], dict] | None = None, cache: bool = True, localized: bool = True) -> dict | None:
        """GETs a JSON object; None for 404. Raises TmdbAuthError on 401, TmdbError once retries are spent.

        `shrink`, when given, is applied to the body before it is returned and cached: the cache keeps only
        what the caller reads. Its `cache_tag` attribute (else its name) is part of the cache key. `localized`
        False leaves the settings' `language` out (the details body, which carries every translation).

        A cached answer is returned only once TMDB accepted the key in this process (`_tell_key`), so that a
        wrong key is never hidden by the cache.
        """
        if self._http is None:
            raise RuntimeError("TmdbClient used before open()")
        query = self._query(params, localized)
        cache_key = None
        hit = None
        if self._cache is not None and cache:
            cache_key = self._cache_key(path, query, shrink)
            # A cached answer costs no request, so it does not wait for the rate limiter either. A refresh
            # reads none (only /configuration, which does not describe a movie).
            if not self.settings.refresh or path == "/configuration":
                hit = self._cached(cache_key)
        if self._key_state() is not True:
            told, value = self._tell_key(None if hit is not None else
                                         lambda: self._fetch(path, query, cache_key, shrink))
            if told:
                return value
        if hit is not None:
            self._observer.on_cache_hit()
            return hit or None
        return self._fetch(path, query, cache_key, shrink)

    def _query(self, params: dict[str, Any] | None, localized: bool = True) -> dict[str, Any]:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        if self.settings.language and localized:
            query.setdefault("language", self.settings.language)
        return query

    def _cache_key(self, path: str, query: dict[str, Any], shrink: Callable[[dict], dict] | None) -> str:
        tag = getattr(shrink, "cache_tag", None) or getattr(shrink, "__qualname__", "")
        return f"{self.settings.base_url}{path}?{urllib.parse.urlencode(sorted(query.items()))}#{tag}"

    # -- whether TMDB takes the key ----------------------------------------------------------------------

    def _key_state(self) -> bool | None:
        """True when TMDB accepted the key in this process (within the hour), False when it refused it, None
        when it is not known yet."""
        if self.settings.key_checked:
            return True
        return self._keys.state(self._key)

    def _tell_key(self, own: Callable[[], dict | None] | None) -> tuple[bool, dict | None]:
        """Makes sure TMDB takes the key before a cached answer is trusted, at one request per process.

        `own` is the caller's request when it has no cached answer: while the key is not known, it goes out
        alone, and its answer tells; a caller with a cached answer (`own` None) waits for a check, made once
        with /configuration (which the images enricher reads anyway, and is cached for it). Returns (True, the
        answer) when `own` went out as the one that tells, else (False, None): the caller goes on. Raises
        TmdbAuthError for a refused key; TmdbError when the check failed (TMDB unreachable, say), without a
        second try for the callers that waited for it."""
        keys = self._keys
        state_now = self._key_state()
        if state_now is False:
            raise self.settings.rejected()
        if state_now or (own is not None and keys.check_failed(self._key) is not None):
            return False, None  # known good; or TMDB failed to answer before: requests go out side by side
        asked = keys.now()
        with keys.checking:  # one at a time; the others wait for its answer
            state_now = self._key_state()
            if state_now is False:
                raise self.settings.rejected()
            failed = keys.check_failed(self._key)
            if state_now or (own is not None and failed is not None):
                return False, None
            if failed is not None and failed[0] >= asked:
                raise TmdbError(f"could not check the API key with TMDB: {failed[1]}")
            try:
                if own is not None:
                    return True, own()
                query = self._query(None)
                self._fetch("/configuration", query,
                            self._cache_key("/configuration", query, None) if self._cache is not None else None,
                            None)
                return False, None
            except TmdbAuthError:
                raise
            except TmdbError as error:
                keys.note_check_failed(self._key, str(error))
                if own is not None:
                    raise
                raise TmdbError(f"could not check the API key with TMDB: {error}") from None

    def check_key(self) -> None:
        """Makes sure TMDB takes the key: at most one request (none when this process knows already)."""
        if self._http is None:
            raise RuntimeError("TmdbClient used before open()")
        self._tell_key(None)

    def _accepted(self, status: int) -> None:
        """Notes TMDB's verdict on the key from an answer's status; raises TmdbAuthError on 401."""
        if status == 401:
            self._keys.refuse(self._key)
            raise self.settings.rejected()
        if status < 500 and status != 429 and self._key_state() is None:
            self._keys.accept(self._key)

    # -- the request -------------------------------------------------------------------------------------

    def _fetch(self, path: str, query: dict[str, Any], cache_key: str | None,
               shrink: Callable[[dict], dict] | None) -> dict | None:
        """The request itself, with its retries, unless TMDB is down (`Outage`); the answer is cached under
        `cache_key` when one is given."""
        outage = self._outage
        while True:
            probe = outage.before(self.settings.down_after)
            try:
                value = self._attempts(path, query, cache_key, shrink, probe)
            except Postponed:
                continue  # TMDB was found down while it waited for its turn
            except ServerFailing as error:
                if outage.failed(probe, str(error)):
                    self._observer.on_unreachable(True)
                raise
            except TmdbError:
                self._answered(probe)
                raise
            except BaseException:
                outage.settle(probe)
                raise
            self._answered(probe)
            return value

    def _answered(self, probe: bool) -> None:
        if self._outage.answered(probe):
            self._observer.on_unreachable(False)

    def _attempts(self, path: str, query: dict[str, Any], cache_key: str | None,
                  shrink: Callable[[dict], dict] | None, probe: bool = False) -> dict | None:
        query = dict(query)
        if not self.settings.is_bearer_token:
            query["api_key"] = self.settings.api_key
        url = self.settings.base_url.rstrip("/") + path
        # urllib3 retries transport faults and 5xx (`LimitedRetry`); 429s and bodies cut off mid-JSON are
        # retried here. Every attempt waits for its slots (`Limits`).
        kind = next((k for rx, k in _PATH_KIND if rx.match(path)), "other")
        retry = self._retry.for_endpoint(kind)
        timeout = urllib3.Timeout(connect=min(self.settings.timeout, 10.0), read=self.settings.timeout)
        observer = self._observer
        last_error = "no attempt"
        attempts = 1 + self.settings.retries
        for attempt in range(attempts):
            retrying = attempt + 1 < attempts
            with self._limits.slot():
                if not probe and self._outage.is_down():
                    raise Postponed()
                observer.on_sent(kind)
                try:
                    response = self._http.request("GET", url, fields=query, timeout=timeout, retries=retry)
                    body = response.data
                except (urllib3.exceptions.ProtocolError, urllib3.exceptions.DecodeError) as error:
                    # A body cut off mid-way: the connection broke after the headers; ask again.
                    last_error = redact(f"{type(error).__name__}: {error}", self.settings.api_key)
                    self._retrying(retrying)
                    continue
                except urllib3.exceptions.HTTPError as error:  # connection, timeout: urllib3's retries are spent
                    observer.on_failure()
                    raise ServerFailing(redact(f"{type(error).__name__}: {error}", self.settings.api_key)) \
                        from None
            status = response.status
            self._accepted(status)
            if status == 429:
                observer.on_throttled()
                hold = throttle.retry_after(response.headers.get("Retry-After"))
                if hold is None:
                    hold = min(30.0, max(1.0, self.settings.backoff * 2 ** attempt))
                last_error = f"HTTP 429 from {kind}: still throttled after {attempts} attempts"
                self._limits.after_429(time.monotonic(), hold if retrying else 0.0)
                self._retrying(retrying)
                continue
            if status == 404:
                if cache_key is not None:
                    self._cache.put(cache_key, 404, None)
                return None
            if status >= 400:
                observer.on_failure()
                failure = ServerFailing if status >= 500 else TmdbError
                raise failure(redact(f"HTTP {status} from {kind} after retries: {_message(body)}",
                                     self.settings.api_key))
            try:
                value = orjson.loads(body)
            except orjson.JSONDecodeError:
                last_error = f"invalid JSON body from {kind} ({len(body)} bytes)"
                self._retrying(retrying)
                continue
            if not isinstance(value, dict):
                last_error = f"unexpected JSON from {kind}: not an object"
                continue
            if shrink is not None:
                value = shrink(value)
            if cache_key is not None:
                self._cache.put(cache_key, 200, body if shrink is None else orjson.dumps(value))
            return value
        observer.on_failure()
        raise TmdbError(last_error)

    def _retrying(self, retrying: bool) -> None:
        if retrying:
            self._observer.on_retry()

    def _cached(self, key: str) -> dict | None:
        """The cached answer: a body, {} for a cached 404, None when there is none (or it is damaged); counted as
        a hit by the caller, once it trusts it."""
        entry = self._cache.get(key)
        if entry is None:
            return None
        status, body = entry
        value: Any = {}
        if status != 404:
            try:
                value = orjson.loads(body or b"")
            except orjson.JSONDecodeError:
                return None  # a damaged entry: ask the API again
            if not isinstance(value, dict) or not value:
                return None
        return value

    # -- the endpoints -----------------------------------------------------------------------------------

    def configuration(self) -> dict:
        body = self.get("/configuration")
        if not body:
            raise TmdbError("no /configuration")
        return body

    def search_movie(self, query: str, year: int | None = None,
                     shrink: Callable[[dict], dict] | None = None) -> list[dict]:
        body = self.get("/search/movie", {"query": query, "include_adult": "false", "year": year}, shrink)
        return list((body or {}).get("results") or [])

    def find_by_imdb(self, imdb_id: str) -> list[dict]:
        body = self.get(f"/find/{imdb_id}", {"external_source": "imdb_id"})
        return list((body or {}).get("movie_results") or [])

    def changed_movie_ids(self, since: datetime.datetime, until: datetime.datetime | None = None) -> set[int]:
        """The ids TMDB lists as edited from `since` (its whole day, UTC) to `until` (default now): window by
        window of at most 14 days, every page; a window of more than 500 pages is asked for in halves."""
        utc = datetime.timezone.utc
        first = since.astimezone(utc).date()
        last = (until or datetime.datetime.now(utc)).astimezone(utc).date()
        ids: set[int] = set()
        windows = []
        while first <= last:
            end = min(first + datetime.timedelta(days=CHANGES_WINDOW_DAYS - 1), last)
            windows.append((first, end))
            first = end + datetime.timedelta(days=1)
        while windows:
            start, end = windows.pop(0)
            page, pages = 1, 1
            while page <= pages:
                body = self.get("/movie/changes", {"start_date": start.isoformat(), "end_date": end.isoformat(),
                                                   "page": page}, cache=False) or {}
                pages = int(body.get("total_pages") or 0) if isinstance(body.get("total_pages"), int) else 0
                if pages > CHANGES_MAX_PAGES and start < end:  # more than TMDB pages through: halve the window
                    middle = start + (end - start) // 2
                    windows[:0] = [(start, middle), (middle + datetime.timedelta(days=1), end)]
                    break
                ids.update(item["id"] for item in body.get("results") or []
                           if isinstance(item, dict) and isinstance(item.get("id"), int))
                page += 1
        return ids

    def movie_details(self, tmdb_id: int, append: tuple[str, ...] = (),
                      shrink: Callable[[dict], dict] | None = None) -> dict | None:
        """The details body with the `append` parts, in TMDB's default language (the others: `translations`)."""
        return self.get(f"/movie/{int(tmdb_id)}", _details_params(append), shrink, localized=False)

    def movie_details_by_imdb(self, imdb_id: str, append: tuple[str, ...] = (),
                              shrink: Callable[[dict], dict] | None = None) -> dict | None:
        """The same body by IMDb id, which /movie/{id} accepts too: one request where /find then details is two."""
        if not re.fullmatch(r"tt\d{7,9}", imdb_id or ""):
            raise ValueError(f"not an IMDb id: {imdb_id!r}")
        params = _details_params(append)
        body = self.get(f"/movie/{imdb_id}", params, shrink, localized=False)
        if body and isinstance(body.get("id"), int) and self._cache is not None:
            # The next run asks by the TMDB id the record now has (another language chain, say): this answers it.
            key = self._cache_key(f"/movie/{body['id']}", self._query(params, False), shrink)
            self._cache.put(key, 200, orjson.dumps(body))
        return body


def _details_params(append: tuple[str, ...]) -> dict[str, Any]:
    """`append_to_response`, each part once; without `include_image_language`, TMDB sends every image language."""
    parts = tuple(dict.fromkeys(append))
    return {"append_to_response": ",".join(parts)} if parts else {}


def _message(body: bytes) -> str:
    try:
        value = orjson.loads(body)
        return str(value.get("status_message") or value)[:200]
    except Exception:  # pylint: disable=broad-except
        return body[:80].decode("utf-8", "replace")
