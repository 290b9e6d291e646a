"""The TMDB v3 client and what it is made of; the names other modules import, from the modules that own them.

- `settings`: what a client is told (`TmdbSettings`), its errors, `redact`;
- `transport`: urllib3's pool, proxy and CA bundle, and retries that pass the limits;
- `limits`: the concurrency slot, then the rate slot (`RateLimiter`, the machine's `budget`);
- `throttle`: the rate learnt from 429s (AIMD) and Retry-After;
- `budget`: one rate shared by the processes of a machine, in a file;
- `outage`: the circuit breaker for TMDB down;
- `keys`: whether TMDB took the key; `state`: the per-process objects, through Beam's `Shared`;
- `observers`: the client's events, its `ClientStats` and the live progress;
- `client`: `TmdbClient`, its endpoints and the change feed.
"""

from movie_enrichment.io.tmdb.client import APPEND_FOR, CHANGES_MAX_PAGES, CHANGES_WINDOW_DAYS, DETAILS_PARTS, TmdbClient
from movie_enrichment.io.tmdb.keys import KEY_ACCEPTED_SECONDS
from movie_enrichment.io.tmdb.limits import RATE_MARGIN, Limits, RateLimiter
from movie_enrichment.io.tmdb.observers import ClientStats, Observer, ProgressObserver
from movie_enrichment.io.tmdb.outage import DOWN_AFTER_FAILURES, PROBE_SECONDS, Outage
from movie_enrichment.io.tmdb.settings import (
    DEFAULT_BASE_URL,
    DEFAULT_CERTIFICATION_COUNTRIES,
    TmdbAuthError,
    TmdbError,
    TmdbSettings,
    redact,
)
from movie_enrichment.io.tmdb.state import forget_keys

__all__ = [
    "APPEND_FOR", "CHANGES_MAX_PAGES", "CHANGES_WINDOW_DAYS", "ClientStats", "DEFAULT_BASE_URL",
    "DEFAULT_CERTIFICATION_COUNTRIES", "DETAILS_PARTS",
    "DOWN_AFTER_FAILURES", "KEY_ACCEPTED_SECONDS", "Limits", "Observer", "Outage", "PROBE_SECONDS",
    "ProgressObserver", "RATE_MARGIN", "RateLimiter", "TmdbAuthError", "TmdbClient", "TmdbError", "TmdbSettings",
    "forget_keys", "redact",
]
