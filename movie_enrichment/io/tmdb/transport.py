"""The connections to the API: urllib3's pool (through the environment's proxy and CA bundle) and its retries,
which pass the same limits as first attempts.

urllib3 itself, not requests over it: a third of the CPU per request (260 us against 750 us measured against the
local server), which bounds a run of thousands of requests in one Python process.
"""

import os
import urllib.parse
import urllib.request
from typing import Any

import urllib3
from urllib3.util.retry import Retry

from movie_enrichment.io.tmdb.limits import Limits
from movie_enrichment.io.tmdb.observers import Observer
from movie_enrichment.io.tmdb.outage import Outage

# 429 is not among them: a throttled request comes back to the client, whose retry waits for the process's
# throttle (Retry-After, a lower rate) like any request.
RETRY_STATUSES = (500, 502, 503, 504)
USER_AGENT = "movie-enrichment/0.1"


def ca_bundle() -> str | None:
    """The CA bundle the environment names (REQUESTS_CA_BUNDLE, SSL_CERT_FILE, as requests reads them), else
    certifi's, else None (the system's store)."""
    ca_certs = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE")
    if ca_certs:
        return ca_certs
    try:
        import certifi
        return certifi.where()
    except ImportError:
        return None


def pool_manager(base_url: str, size: int, headers: dict) -> urllib3.PoolManager:
    """Connections to the API, through the proxy that the environment names (HTTPS_PROXY and the like, and
    NO_PROXY, as requests would), verified against `ca_bundle()`."""
    options: dict[str, Any] = {"num_pools": 2, "maxsize": size, "headers": headers}
    ca_certs = ca_bundle()
    if ca_certs:
        options["ca_certs"] = ca_certs
    parts = urllib.parse.urlsplit(base_url)
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and not urllib.request.proxy_bypass(parts.hostname or ""):
        return urllib3.ProxyManager(proxy, **options)
    return urllib3.PoolManager(**options)


class LimitedRetry(Retry):
    """urllib3's Retry, whose retries (connection errors, timeouts, 5xx) wait for a rate slot like any attempt
    and are told to the client's observers; once TMDB is known down, a request in flight stops retrying."""

    limits: Limits | None = None
    observer: Observer = Observer()
    outage: Outage | None = None
    endpoint: str = "other"
    # urllib3 retries any 413/429/503 that carries Retry-After, whatever status_forcelist says; 429 must come
    # back to the client, whose retry waits for the process's throttle.
    RETRY_AFTER_STATUS_CODES = frozenset({503})

    @classmethod
    def make(cls, retries: int, backoff: float, limits: Limits, observer: Observer,
             outage: Outage) -> "LimitedRetry":
        retry = cls(total=retries, connect=retries, read=retries, status=retries, backoff_factor=backoff,
                    backoff_max=30, status_forcelist=RETRY_STATUSES, allowed_methods=frozenset({"GET"}),
                    respect_retry_after_header=True, raise_on_status=False)
        retry.limits, retry.observer, retry.outage = limits, observer, outage
        return retry

    def for_endpoint(self, endpoint: str) -> "LimitedRetry":
        retry = self.new()
        retry.endpoint = endpoint
        return retry

    def new(self, **kw):
        retry = super().new(**kw)
        retry.limits, retry.observer, retry.outage, retry.endpoint = (self.limits, self.observer, self.outage,
                                                                      self.endpoint)
        return retry

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        # Raises once the retries are spent: that answer is final, and no further attempt is counted.
        if self.outage is not None and self.outage.is_down():
            # TMDB is down: this answer is final (the outage's probe decides when to ask again).
            raise urllib3.exceptions.MaxRetryError(
                _pool, url, error or urllib3.exceptions.ResponseError("TMDB is down"))
        retry = super().increment(method, url, response, error, _pool, _stacktrace)
        self.observer.on_retry()
        return retry

    def sleep(self, response=None) -> None:
        super().sleep(response)  # the backoff, or a 503's Retry-After
        if self.limits is not None:
            self.limits.rate_slot()  # the thread still holds its concurrency slot
        self.observer.on_sent(self.endpoint)
