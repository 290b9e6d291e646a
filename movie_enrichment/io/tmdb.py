"""The TMDB v3 client: one pooled session, urllib3 retries that honour Retry-After, timeouts and a rate limit."""

import collections
import dataclasses
import datetime
import hashlib
import logging
import os
import re
import threading
import time
import urllib.parse
import urllib.request
from typing import Any, Callable

import orjson
import urllib3
from urllib3.util.retry import Retry

from movie_enrichment.io import progress, response_cache

DEFAULT_BASE_URL = "https://api.themoviedb.org/3"
# What the details call appends, per enricher; one request then feeds every enricher.
APPEND_FOR = {"metadata": ("credits", "external_ids"), "images": ("images",)}
# 429 is not among them: a throttled request is retried by TmdbClient.get, through the rate limiter, so the
# retry takes a slot like any request instead of going out on top of the schedule.
_RETRY_STATUSES = (500, 502, 503, 504)
CHANGES_WINDOW_DAYS = 14  # /movie/changes answers at most 14 days at once
CHANGES_MAX_PAGES = 500
# The limiter keeps this far under the configured rate, so that timing jitter between client and server
# never puts one request too many into the server's one-second window.
RATE_MARGIN = 0.975


class TmdbError(Exception):
    """A request failed after every retry; the movie is marked failed and the run goes on."""


class TmdbAuthError(TmdbError):
    """TMDB rejected the key: fatal for the run, since every further request would fail the same way."""


class _ServerFailing(TmdbError):
    """No answer, or a 5xx, once the retries were spent: what tells `Outage` that TMDB may be down."""


class _Postponed(Exception):
    """TMDB was found down while this request waited for its turn: it waits with the others instead."""


@dataclasses.dataclass(frozen=True)
class TmdbSettings:
    """Everything a client needs, picklable so that it travels with the DoFns to other processes.

    Args:
        api_key: a v3 API key (sent as `api_key`) or a v4 read-access token (a JWT, sent as a Bearer header).
        base_url: the API root, `https://api.themoviedb.org/3` or a compatible server.
        max_requests_per_second: this process's share of the run's request rate.
        max_concurrency: requests in flight at once in this process.
        timeout: seconds to wait for a connection and for each read.
        retries: attempts after the first, for connection errors, timeouts, 429 and 5xx.
    """

    api_key: str
    key_origin: str = ""  # where the key came from, for the message when TMDB rejects it (never the key)
    base_url: str = DEFAULT_BASE_URL
    max_requests_per_second: float = 40.0
    max_concurrency: int = 16
    timeout: float = 10.0
    retries: int = 5
    backoff: float = 0.5
    # Once every request has failed for this long (TMDB down, the network cut), lookups fail without a request
    # (`Outage`); 0: as soon as it is known.
    down_after: float = 60.0
    language: str | None = None
    cache_path: str | None = None  # the SQLite file of the response cache; None: no cache
    cache_days: float = 7.0
    cache_max_bytes: int = response_cache.DEFAULT_MAX_BYTES
    # A refresh (`--reprocess all`, `stale`, `changed`, `not_found`) asks TMDB again: cached answers are not
    # read, and the fresh ones replace them.
    refresh: bool = False
    # Set when the launcher already made sure TMDB accepts the key (one request for the whole run): the worker
    # processes then trust cached answers from their first request on.
    key_checked: bool = False

    def __repr__(self) -> str:  # never print the key
        return f"TmdbSettings(base_url={self.base_url!r}, rps={self.max_requests_per_second})"

    @property
    def is_bearer_token(self) -> bool:
        # v4 read-access tokens are JWTs: three base64 parts; v3 keys are 32 hex digits.
        return self.api_key.count(".") == 2 and len(self.api_key) > 40

    def rejected(self) -> TmdbAuthError:
        """The one-line error for a key TMDB refuses, naming where the key came from (never the key)."""
        return TmdbAuthError(f"TMDB rejected the API key (HTTP 401): check the key given by "
                             f"{self.key_origin or '--tmdb_api_key or TMDB_API_KEY'}")


# Whether TMDB accepted a key, per API root and key (by digest), in this process: a cached answer is trusted only
# once the key is known good, so that a wrong key is never hidden by the cache. An acceptance holds for an hour
# (a long --watch asks again); a refusal for the life of the process.
KEY_ACCEPTED_SECONDS = 3600.0
_KEYS_LOCK = threading.Lock()
_KEYS: dict[tuple[str, str], float | None] = {}  # monotonic time accepted; None: refused


def _key_id(settings: TmdbSettings) -> tuple[str, str]:
    return settings.base_url, hashlib.sha256(settings.api_key.encode()).hexdigest()


_KEY_CHECK = threading.Lock()  # held by the one request that tells whether TMDB takes the key
_KEY_CHECK_FAILED: dict[tuple[str, str], tuple[float, str]] = {}  # TMDB did not answer it: when, why


def forget_keys() -> None:
    """Forgets which keys TMDB accepted or refused in this process (for tests)."""
    with _KEYS_LOCK:
        _KEYS.clear()
        _KEY_CHECK_FAILED.clear()


def redact(text: str, secret: str | None) -> str:
    """Removes a secret, and any api_key parameter, from a message or URL before it is logged or stored."""
    if secret and len(secret) >= 8:  # a shorter "secret" would mangle ordinary words, and is no real key
        text = text.replace(secret, "***")
    return re.sub(r"(api_key=)[^&\s'\"]+", r"\1***", text)


class RateLimiter:
    """Even spacing plus a sliding one-second window over the moments requests really leave, shared by every
    thread of a process.

    Spacing alone is not enough: threads that wake late (the GIL, a busy core) would send several slots'
    requests at once and push one too many into the server's window. `pause()` holds every thread back, as
    TMDB asks with `Retry-After` when it answers 429.
    """

    def __init__(self, rate: float):
        self._interval = 1.0 / (rate * RATE_MARGIN) if rate and rate > 0 else 0.0
        self._cap = max(1, int(rate * RATE_MARGIN)) if self._interval else 0
        self._sent: collections.deque[float] = collections.deque()
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        if not self._interval:
            return
        while True:
            with self._lock:
                now = time.monotonic()
                while self._sent and self._sent[0] <= now - 1.0:
                    self._sent.popleft()
                wait = self._next - now
                if len(self._sent) >= self._cap:
                    wait = max(wait, self._sent[0] + 1.0 - now)
                if wait <= 0:
                    self._sent.append(now)
                    self._next = max(self._next, now) + self._interval
                    return
            time.sleep(min(wait, 1.0))

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._next = max(self._next, time.monotonic() + seconds)


_LOGGER = logging.getLogger(__name__)

# Requests in a row that failed after their retries, with no answer of any kind between them, before TMDB is
# taken as down. With 16 in flight, one flaky film cannot reach it; a dead server reaches it within one round.
DOWN_AFTER_FAILURES = 10
PROBE_SECONDS = 5.0


class Outage:
    """Whether TMDB answers at all, per API root and process: a circuit breaker, so that a run with TMDB down
    ends in minutes rather than retrying every movie for hours.

    After DOWN_AFTER_FAILURES requests in a row failed with no answer or a 5xx (each after its retries), TMDB
    is down: requests wait, and one every PROBE_SECONDS goes out to see whether it is back; an answer of any
    kind ends the outage and the waiting requests go on. Once it has lasted `down_after` seconds, requests fail
    at once without being sent (the probe still goes out every PROBE_SECONDS), so the rest of the run's movies
    fail quickly and a later run retries them.
    """

    def __init__(self):
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
                now = time.monotonic()
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
                self._cond.wait(until_give_up if self._probing else min(max(self._next_probe - now, 0.05),
                                                                        until_give_up))
            return False

    def is_down(self) -> bool:
        return self._in_a_row >= DOWN_AFTER_FAILURES

    def answered(self, probe: bool) -> None:
        """TMDB answered (any status but a 5xx): the outage, if any, is over."""
        with self._cond:
            if self._in_a_row or probe:
                if self.is_down():
                    _LOGGER.warning("TMDB answers again after %.0f s; the run goes on",
                                    time.monotonic() - self._since)
                    progress.add(unreachable=-1)
                self._in_a_row, self._probing, self._gave_up = 0, False, False
                self._cond.notify_all()

    def failed(self, probe: bool, error: str) -> None:
        """No answer, or a 5xx, after the request's retries."""
        with self._cond:
            if self._in_a_row == 0:
                self._since = time.monotonic()
            self._in_a_row += 1
            self._last_error = error
            went_down = self._in_a_row == DOWN_AFTER_FAILURES
            if went_down:
                progress.add(unreachable=1)
                _LOGGER.warning("TMDB is not answering: %d requests in a row failed (last: %s); requests wait for "
                                "it, checked every %.0f s", self._in_a_row, error, PROBE_SECONDS)
            if probe or went_down:
                self._probing = False
                self._next_probe = time.monotonic() + PROBE_SECONDS
            self._cond.notify_all()

    def settle(self, probe: bool) -> None:
        """The request ended without telling (interrupted): another may probe."""
        if probe:
            with self._cond:
                self._probing = False
                self._cond.notify_all()


_SHARED_LOCK = threading.Lock()
_LIMITERS: dict[tuple[str, float], RateLimiter] = {}
_OUTAGES: dict[str, Outage] = {}
_SEMAPHORES: dict[tuple[str, int], threading.BoundedSemaphore] = {}


def _shared_limiter(base_url: str, rate: float) -> RateLimiter:
    """One limiter per process and API, whatever the number of DoFn instances and threads."""
    with _SHARED_LOCK:
        return _LIMITERS.setdefault((base_url, rate), RateLimiter(rate))


def _shared_outage(base_url: str) -> Outage:
    with _SHARED_LOCK:
        return _OUTAGES.setdefault(base_url, Outage())


def _shared_semaphore(base_url: str, size: int) -> threading.BoundedSemaphore:
    with _SHARED_LOCK:
        return _SEMAPHORES.setdefault((base_url, size), threading.BoundedSemaphore(max(1, size)))


@dataclasses.dataclass
class ClientStats:
    """Counts kept across threads; the DoFns turn them into Beam counters from their own thread."""

    requests: int = 0  # every attempt sent, retries included
    retries: int = 0
    throttled: int = 0  # 429 answers
    errors: int = 0  # requests that failed after all retries
    cache_hits: int = 0
    by_endpoint: dict = dataclasses.field(default_factory=dict)

    def snapshot(self) -> dict:
        return {"requests": self.requests, "retries": self.retries, "throttled": self.throttled,
                "errors": self.errors, "cache_hits": self.cache_hits}


class _CountingRetry(Retry):
    """urllib3's Retry, which also counts each retry and 429 into the client's stats."""

    stats: Any = None  # ClientStats, set by the client
    lock: Any = None
    outage: Any = None  # the client's Outage: once TMDB is down, a request in flight stops retrying
    # urllib3 retries any 413/429/503 that carries Retry-After, whatever status_forcelist says; 429 must come
    # back to TmdbClient.get, whose retry waits for the shared rate limiter.
    RETRY_AFTER_STATUS_CODES = frozenset({503})

    def new(self, **kw):
        retry = super().new(**kw)
        retry.stats, retry.lock, retry.outage = self.stats, self.lock, self.outage
        return retry

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        # Raises once the retries are spent: that answer is final, and no further attempt is counted.
        if self.outage is not None and self.outage.is_down():
            # TMDB is down: this answer is final (the outage's probe decides when to ask again).
            raise urllib3.exceptions.MaxRetryError(
                _pool, url, error or urllib3.exceptions.ResponseError("TMDB is down"))
        retry = super().increment(method, url, response, error, _pool, _stacktrace)
        if self.stats is not None:
            with self.lock:
                self.stats.retries += 1
                self.stats.requests += 1
            progress.add(retries=1, requests=1)
        return retry


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
    """

    def __init__(self, settings: TmdbSettings):
        self.settings = settings
        self.stats = ClientStats()
        self._lock = threading.Lock()
        self._http: urllib3.PoolManager | None = None
        self._retry: Retry | None = None
        self._limiter = _shared_limiter(settings.base_url, settings.max_requests_per_second)
        self._in_flight = _shared_semaphore(settings.base_url, settings.max_concurrency)
        self._outage = _shared_outage(settings.base_url)
        self._cache: response_cache.ResponseCache | None = None
        self._key = _key_id(settings)

    def __enter__(self) -> "TmdbClient":
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def open(self) -> None:
        retry = _CountingRetry(
            total=self.settings.retries, connect=self.settings.retries, read=self.settings.retries,
            status=self.settings.retries, backoff_factor=self.settings.backoff, backoff_max=30,
            status_forcelist=_RETRY_STATUSES, allowed_methods=frozenset({"GET"}),
            respect_retry_after_header=True, raise_on_status=False)
        retry.stats, retry.lock, retry.outage = self.stats, self._lock, self._outage
        headers = {"Accept": "application/json", "User-Agent": "movie-enrichment/0.1"}
        if self.settings.is_bearer_token:
            headers["Authorization"] = f"Bearer {self.settings.api_key}"
        # urllib3 itself, not requests over it: a third of the CPU per request (260 us against 750 us measured
        # against the local server), which bounds a run of thousands of requests in one Python process.
        self._retry = retry
        self._http = _pool_manager(self.settings.base_url, max(1, self.settings.max_concurrency), headers)
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

    # -- the calls ---------------------------------------------------------------------------------------

    def get(self, path: str, params: dict[str, Any] | None = None,
            shrink: Callable[[dict], dict] | None = None, cache: bool = True) -> dict | None:
        """GETs a JSON object; None for 404. Raises TmdbAuthError on 401, TmdbError once retries are spent.

        `shrink`, when given, is applied to the body before it is returned and cached: the cache keeps only
        what the caller reads. Its `cache_tag` attribute (else its name) is part of the cache key.

        A cached answer is returned only once TMDB accepted the key in this process (`_tell_key`), so that a
        wrong key is never hidden by the cache.
        """
        if self._http is None:
            raise RuntimeError("TmdbClient used before open()")
        query = self._query(params)
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
            with self._lock:
                self.stats.cache_hits += 1
            progress.add(cache_hits=1)
            return hit or None
        return self._fetch(path, query, cache_key, shrink)

    def _query(self, params: dict[str, Any] | None) -> dict[str, Any]:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        if self.settings.language:
            query.setdefault("language", self.settings.language)
        return query

    def _cache_key(self, path: str, query: dict[str, Any], shrink: Callable[[dict], dict] | None) -> str:
        tag = getattr(shrink, "cache_tag", None) or getattr(shrink, "__qualname__", "")
        return f"{self.settings.base_url}{path}?{urllib.parse.urlencode(sorted(query.items()))}#{tag}"

    def _key_state(self) -> bool | None:
        """True when TMDB accepted the key in this process (within the hour), False when it refused it, None
        when it is not known yet."""
        if self.settings.key_checked:
            return True
        with _KEYS_LOCK:
            if self._key not in _KEYS:
                return None
            accepted = _KEYS[self._key]
        if accepted is None:
            return False
        return True if time.monotonic() - accepted < KEY_ACCEPTED_SECONDS else None

    def _tell_key(self, own: Callable[[], dict | None] | None) -> tuple[bool, dict | None]:
        """Makes sure TMDB takes the key before a cached answer is trusted, at one request per process.

        `own` is the caller's request when it has no cached answer: while the key is not known, it goes out
        alone, and its answer tells; a caller with a cached answer (`own` None) waits for a check, made once
        with /configuration (which the images enricher reads anyway, and is cached for it). Returns (True, the
        answer) when `own` went out as the one that tells, else (False, None): the caller goes on. Raises
        TmdbAuthError for a refused key; TmdbError when the check failed (TMDB unreachable, say), without a
        second try for the callers that waited for it."""
        state = self._key_state()
        if state is False:
            raise self.settings.rejected()
        if state or (own is not None and self._key in _KEY_CHECK_FAILED):
            return False, None  # known good; or TMDB failed to answer before: requests go out side by side
        asked = time.monotonic()
        with _KEY_CHECK:  # one at a time; the others wait for its answer
            state = self._key_state()
            if state is False:
                raise self.settings.rejected()
            failed = _KEY_CHECK_FAILED.get(self._key)
            if state or (own is not None and failed is not None):
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
                _KEY_CHECK_FAILED[self._key] = (time.monotonic(), str(error))
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
            with _KEYS_LOCK:
                _KEYS[self._key] = None
            raise self.settings.rejected()
        if status < 500 and status != 429 and self._key_state() is None:
            with _KEYS_LOCK:
                _KEYS[self._key] = time.monotonic()

    def _fetch(self, path: str, query: dict[str, Any], cache_key: str | None,
               shrink: Callable[[dict], dict] | None) -> dict | None:
        """The request itself, with its retries, unless TMDB is down (`Outage`); the answer is cached under
        `cache_key` when one is given."""
        outage = self._outage
        while True:
            probe = outage.before(self.settings.down_after)
            try:
                value = self._attempts(path, query, cache_key, shrink, probe)
            except _Postponed:
                continue  # TMDB was found down while it waited for its turn
            except _ServerFailing as error:
                outage.failed(probe, str(error))
                raise
            except TmdbError:
                outage.answered(probe)
                raise
            except BaseException:
                outage.settle(probe)
                raise
            outage.answered(probe)
            return value

    def _attempts(self, path: str, query: dict[str, Any], cache_key: str | None,
                  shrink: Callable[[dict], dict] | None, probe: bool = False) -> dict | None:
        query = dict(query)
        if not self.settings.is_bearer_token:
            query["api_key"] = self.settings.api_key
        url = self.settings.base_url.rstrip("/") + path
        # urllib3 retries transport faults and 5xx; 429s and bodies cut off mid-JSON are retried here, each
        # attempt taking its slot from the rate limiter.
        kind = next((k for rx, k in _PATH_KIND if rx.match(path)), "other")
        timeout = urllib3.Timeout(connect=min(self.settings.timeout, 10.0), read=self.settings.timeout)
        last_error = "no attempt"
        attempts = 1 + self.settings.retries
        for attempt in range(attempts):
            retrying = attempt + 1 < attempts
            self._limiter.acquire()
            with self._in_flight:
                if not probe and self._outage.is_down():
                    raise _Postponed()
                with self._lock:
                    self.stats.requests += 1
                    self.stats.by_endpoint[kind] = self.stats.by_endpoint.get(kind, 0) + 1
                progress.add(requests=1)
                try:
                    response = self._http.request("GET", url, fields=query, timeout=timeout, retries=self._retry)
                    body = response.data
                except (urllib3.exceptions.ProtocolError, urllib3.exceptions.DecodeError) as error:
                    # A body cut off mid-way: the connection broke after the headers; ask again.
                    last_error = redact(f"{type(error).__name__}: {error}", self.settings.api_key)
                    self._note_retry(retrying)
                    continue
                except urllib3.exceptions.HTTPError as error:  # connection, timeout: urllib3's retries are spent
                    self._count_error()
                    raise _ServerFailing(redact(f"{type(error).__name__}: {error}", self.settings.api_key)) \
                        from None
            status = response.status
            self._accepted(status)
            if status == 429:
                with self._lock:
                    self.stats.throttled += 1
                progress.add(throttled=1)
                self._limiter.pause(_retry_after(response, attempt, self.settings.backoff))
                last_error = f"HTTP 429 from {kind}: still throttled after {attempts} attempts"
                self._note_retry(retrying)
                continue
            if status == 404:
                if cache_key is not None:
                    self._cache.put(cache_key, 404, None)
                return None
            if status >= 400:
                self._count_error()
                failure = _ServerFailing if status >= 500 else TmdbError
                raise failure(redact(f"HTTP {status} from {kind} after retries: {_message(body)}",
                                     self.settings.api_key))
            try:
                value = orjson.loads(body)
            except orjson.JSONDecodeError:
                last_error = f"invalid JSON body from {kind} ({len(body)} bytes)"
                self._note_retry(retrying)
                continue
            if not isinstance(value, dict):
                last_error = f"unexpected JSON from {kind}: not an object"
                continue
            if shrink is not None:
                value = shrink(value)
            if cache_key is not None:
                self._cache.put(cache_key, 200, body if shrink is None else orjson.dumps(value))
            return value
        self._count_error()
        raise TmdbError(last_error)

    def _note_retry(self, retrying: bool) -> None:
        if retrying:
            with self._lock:
                self.stats.retries += 1
            progress.add(retries=1)

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

    def _count_error(self) -> None:
        with self._lock:
            self.stats.errors += 1

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
        return self.get(f"/movie/{int(tmdb_id)}", _details_params(append), shrink)

    def movie_details_by_imdb(self, imdb_id: str, append: tuple[str, ...] = (),
                              shrink: Callable[[dict], dict] | None = None) -> dict | None:
        """The same body by IMDb id, which /movie/{id} accepts too: one request where /find then details is two."""
        if not re.fullmatch(r"tt\d{7,9}", imdb_id or ""):
            raise ValueError(f"not an IMDb id: {imdb_id!r}")
        return self.get(f"/movie/{imdb_id}", _details_params(append), shrink)


def _details_params(append: tuple[str, ...]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if append:
        params["append_to_response"] = ",".join(append)
    if "images" in append:
        # Without it, TMDB filters images by `language` and drops the language-less backdrops.
        params["include_image_language"] = "en,null"
    return params


def _pool_manager(base_url: str, size: int, headers: dict) -> urllib3.PoolManager:
    """Connections to the API, through the proxy that the environment names (HTTPS_PROXY and the like, as
    requests would), verified against the CA bundle it names (REQUESTS_CA_BUNDLE, SSL_CERT_FILE) or certifi's."""
    ca_certs = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE")
    if not ca_certs:
        try:
            import certifi
            ca_certs = certifi.where()
        except ImportError:  # the system's default store
            ca_certs = None
    options: dict[str, Any] = {"num_pools": 2, "maxsize": size, "headers": headers}
    if ca_certs:
        options["ca_certs"] = ca_certs
    parts = urllib.parse.urlsplit(base_url)
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and not urllib.request.proxy_bypass(parts.hostname or ""):
        return urllib3.ProxyManager(proxy, **options)
    return urllib3.PoolManager(**options)


def _retry_after(response: urllib3.BaseHTTPResponse, attempt: int, backoff: float) -> float:
    """Seconds to hold back after a 429: the server's Retry-After, else an exponential backoff."""
    try:
        return min(60.0, max(0.0, float(response.headers.get("Retry-After", ""))))
    except ValueError:
        return min(30.0, max(1.0, backoff * 2 ** attempt))


def _message(body: bytes) -> str:
    try:
        value = orjson.loads(body)
        return str(value.get("status_message") or value)[:200]
    except Exception:  # pylint: disable=broad-except
        return body[:80].decode("utf-8", "replace")
