"""What a TMDB client is told: its settings (picklable, so they travel with the DoFns), its errors, and redaction."""

import dataclasses
import re

from movie_enrichment.io import response_cache

DEFAULT_BASE_URL = "https://api.themoviedb.org/3"
# The country whose certification a run gives when not told (Radarr's and Jellyfin's default too).
DEFAULT_CERTIFICATION_COUNTRIES = ("US",)


class TmdbError(Exception):
    """A request failed after every retry; the movie is marked failed and the run goes on."""


class TmdbAuthError(TmdbError):
    """TMDB rejected the key: fatal for the run, since every further request would fail the same way."""


class ServerFailing(TmdbError):
    """No answer, or a 5xx, once the retries were spent: what tells `Outage` that TMDB may be down."""


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
        machine_rate: the rate that every process of this machine asking the same API host holds together,
            through one budget file (`budget.SharedBudget`); None: `max_requests_per_second`.
        budget_dir: the folder of those budget files; "" : `$XDG_CACHE_HOME/movie_enrichment/rate` (else
            `~/.cache/...`); None: no budget shared with other processes.
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
    language: str | None = None  # TMDB's `language` for searches: the first of `languages`
    # How the details body is read (transforms/extract.py); they change no request. `languages`: the chain of
    # `--language` (de-DE, en-US); `certification_countries`: `--certification_countries`; `image_languages`:
    # `--image_languages` (ISO 639-1 codes, None for the images without text), () for the default order.
    languages: tuple[str, ...] = ()
    certification_countries: tuple[str, ...] = DEFAULT_CERTIFICATION_COUNTRIES
    image_languages: tuple[str | None, ...] = ()
    cache_path: str | None = None  # the SQLite file of the response cache; None: no cache
    cache_days: float = 7.0
    cache_max_bytes: int = response_cache.DEFAULT_MAX_BYTES
    # A refresh (`--reprocess all`, `stale`, `changed`, `not_found`) asks TMDB again: cached answers are not
    # read, and the fresh ones replace them.
    refresh: bool = False
    # Set when the launcher already made sure TMDB accepts the key (one request for the whole run): the worker
    # processes then trust cached answers from their first request on.
    key_checked: bool = False
    machine_rate: float | None = None
    budget_dir: str | None = ""

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


def redact(text: str, secret: str | None) -> str:
    """Removes a secret, and any api_key parameter, from a message or URL before it is logged or stored."""
    if secret and len(secret) >= 8:  # a shorter "secret" would mangle ordinary words, and is no real key
        text = text.replace(secret, "***")
    return re.sub(r"(api_key=)[^&\s'\"]+", r"\1***", text)
