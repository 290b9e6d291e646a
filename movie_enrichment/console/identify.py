"""What the console asks TMDB itself, through the project's one client (so the machine-wide rate budget and the
HTTP cache apply): the identify box's title searches, and the image host its pages show posters from.

The key stays in this process: a search result or a poster URL never carries it. The client is imported on first
use: it brings Apache Beam (`Shared`), which the console's server does not load until then.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Mapping

from movie_enrichment import api
from movie_enrichment.console.review import TMDB_MOVIE_PAGE
from movie_enrichment.transforms import extract

if TYPE_CHECKING:
    from movie_enrichment.io.tmdb import TmdbClient, TmdbSettings

_LOGGER = logging.getLogger(__name__)

MAX_QUERY = 200
OVERVIEW_CHARS = 240
POSTER_SIZE = "w185"
# A person waits for the answer: fewer retries and a shorter wait than a run's.
RETRIES = 2
TIMEOUT_SECONDS = 5.0
# After /configuration failed, the pages show the stored poster URLs for this long before asking again.
IMAGE_ROOT_RETRY_SECONDS = 60.0
_YEAR = re.compile(r"\d{4}")
_RESULT_KEEP = ("id", "title", "original_title", "release_date", "overview", "poster_path")


class IdentifyError(Exception):
    """A search that cannot be made or failed; the message is one line, `status` the HTTP status to answer."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def check_query(params: Mapping[str, str]) -> tuple[str, int | None]:
    """(title, year) from `q` and `year`, or IdentifyError naming what is wrong."""
    title = " ".join((params.get("q") or "").split())
    if not title:
        raise IdentifyError("q: type a title to search TMDB for, e.g. /api/identify?q=Emma&year=1996")
    if len(title) > MAX_QUERY:
        raise IdentifyError(f"q: at most {MAX_QUERY} characters, got {len(title)}")
    year = (params.get("year") or "").strip()
    if year and not _YEAR.fullmatch(year):
        raise IdentifyError(f"year={year!r}: a year of four digits, or nothing")
    return title, int(year) if year else None


def _shrink(body: dict) -> dict:
    """What the identify box shows of a /search/movie answer (the HTTP cache keeps only this)."""
    results = body.get("results") if isinstance(body.get("results"), list) else []
    return {"results": [{k: r[k] for k in _RESULT_KEEP if k in r} for r in results if isinstance(r, dict)]}


_shrink.cache_tag = "identify/1"


def _snippet(text: Any) -> str:
    if not isinstance(text, str):
        return ""
    text = " ".join(text.split())
    if len(text) <= OVERVIEW_CHARS:
        return text
    return text[:OVERVIEW_CHARS].rsplit(" ", 1)[0].rstrip(",.;:") + "…"


def result(item: dict, root: str | None) -> dict | None:
    """One search result as the page shows it, or None for an item without a TMDB id."""
    tmdb_id = item.get("id")
    if not isinstance(tmdb_id, int) or isinstance(tmdb_id, bool) or tmdb_id <= 0:
        return None
    date = item.get("release_date")
    year = int(date[:4]) if isinstance(date, str) and _YEAR.match(date) else None
    title = item.get("title") if isinstance(item.get("title"), str) else ""
    original = item.get("original_title") if isinstance(item.get("original_title"), str) else ""
    return {"tmdb_id": tmdb_id, "title": title, "original_title": original if original != title else None,
            "year": year, "overview": _snippet(item.get("overview")),
            "poster": extract.image_url(root, POSTER_SIZE, item.get("poster_path")) if root else None,
            "tmdb_url": TMDB_MOVIE_PAGE.format(tmdb_id)}


def with_posters(entries: list[dict], root: str | None) -> list[dict]:
    """Review entries whose candidates' `poster` is on `root` (where a candidate has its `poster_path`)."""
    if root is None:
        return entries
    for entry in entries:
        for candidate in entry.get("candidates") or []:
            if isinstance(candidate, dict):
                url = extract.image_url(root, POSTER_SIZE, candidate.get("poster_path"))
                if url:
                    candidate["poster"] = url
    return entries


def wants_posters(entries: list[dict]) -> bool:
    """Whether any candidate of these entries has a poster file to show."""
    return any(isinstance(c, dict) and c.get("poster_path")
               for entry in entries for c in entry.get("candidates") or [])


class TmdbAsker:
    """The console's TMDB client: one open client for the settings of its runs, opened again when they change
    (a new key in the key file, say). Thread-safe; its calls block, so the web app calls them in a thread.

    Args:
        settings: returns the run's `TmdbSettings` (`api.tmdb_settings`); raises api.OptionError when there are
            none (no key).
        clock: seconds, for when /configuration may be asked again after it failed.
        client_factory: makes the client from the settings; tests pass a fake.
    """

    def __init__(self, settings: Callable[[], TmdbSettings], clock: Callable[[], float] = time.monotonic,
                 client_factory: Callable[..., TmdbClient] | None = None):
        self._settings = settings
        self._clock = clock
        self._factory = client_factory
        self._lock = threading.Lock()
        self._client: TmdbClient | None = None
        self._root: str | None = None
        self._root_failed_at: float | None = None

    def _open(self) -> TmdbClient:
        try:
            settings = self._settings()
        except api.OptionError as error:
            raise IdentifyError(f"cannot ask TMDB: {error}", 503) from None
        settings = dataclasses.replace(settings, retries=min(settings.retries, RETRIES),
                                       timeout=min(settings.timeout, TIMEOUT_SECONDS))
        with self._lock:
            if self._client is None or self._client.settings != settings:
                if self._client is not None:
                    self._client.close()
                if self._factory is None:
                    from movie_enrichment.io.tmdb import TmdbClient
                    self._factory = TmdbClient
                self._client = self._factory(settings, observers=[])  # not a run: no run's progress to feed
                self._client.open()
                self._root, self._root_failed_at = None, None
            return self._client

    def _ask(self, client: TmdbClient, call: Callable[[], Any]) -> Any:
        from movie_enrichment.io.tmdb import TmdbAuthError, TmdbError, redact
        try:
            return call()
        except TmdbAuthError:  # its own message names the key file, which the console shows nowhere
            raise IdentifyError("TMDB rejected the API key (HTTP 401): check the key movie-enrich serve was given "
                                "(a key file is read again for each search)", 502) from None
        except TmdbError as error:
            raise IdentifyError(f"TMDB did not answer: {redact(str(error), client.settings.api_key)}", 502) from None

    def search(self, title: str, year: int | None = None) -> list[dict]:
        """TMDB's first page of films for `title` (and `year`), as the identify box shows them."""
        client = self._open()
        items = self._ask(client, lambda: client.search_movie(title, year, shrink=_shrink))
        root = self._image_root(client)
        return [shown for shown in (result(item, root) for item in items) if shown is not None]

    def image_root(self) -> str | None:
        """The image root posters are shown from, or None when TMDB cannot say now (no key, no answer)."""
        try:
            return self._image_root(self._open())
        except IdentifyError as error:
            _LOGGER.info("Posters from the stored URLs: %s", error)
            return None

    def _image_root(self, client: TmdbClient) -> str | None:
        if self._root is not None:
            return self._root
        if self._root_failed_at is not None and self._clock() - self._root_failed_at < IMAGE_ROOT_RETRY_SECONDS:
            return None
        try:
            configuration = self._ask(client, client.configuration)
        except IdentifyError as error:
            _LOGGER.warning("No image root from TMDB's /configuration: %s", error)
            self._root_failed_at = self._clock()
            return None
        self._root = extract.image_root(configuration, client.settings.base_url)
        return self._root

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
