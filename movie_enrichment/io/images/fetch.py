"""Fetching one image: the TMDB client's connections and retry policy (`io.tmdb.transport`), a cut or corrupt
answer asked again, and a one-line reason when it cannot be had."""

import logging
from typing import Callable, TypeVar

import urllib3

from movie_enrichment.io import stop
from movie_enrichment.io.tmdb.observers import Observer
from movie_enrichment.io.tmdb.transport import USER_AGENT, LimitedRetry, pool_manager

_LOGGER = logging.getLogger(__name__)

T = TypeVar("T")


class FetchError(Exception):
    """An image that could not be had; the message is one line (the status or error, never a key: the image
    host takes none)."""


class ImageFetcher:
    """Images over HTTP(S), through the proxy and CA bundle the environment names.

    Args:
        root: the image host's root (`https://image.tmdb.org/t/p/`), for the proxy choice.
        concurrency: connections kept to the host (the downloads in flight).
        timeout: seconds to wait for a connection and for each read.
        retries: attempts after the first. Connection errors, timeouts and 5xx are retried by urllib3 with the
            TMDB client's policy (`LimitedRetry`, without the API's rate limit: the image host is not the API);
            a body cut off mid-way or one that `check` refuses is asked again here.
        backoff: seconds before the first of these retries, doubled each time (at most 30).
        sleep: waits between retries (ends when the process is asked to stop); tests pass a fake.
    """

    def __init__(self, root: str, concurrency: int = 20, timeout: float = 10.0, retries: int = 5,
                 backoff: float = 0.5, sleep: Callable[[float], None] = stop.sleep):
        self._http = pool_manager(root, max(1, concurrency), {"User-Agent": USER_AGENT})
        self._retry = LimitedRetry.make(retries, backoff, None, Observer(), None)
        self._timeout = urllib3.Timeout(connect=min(timeout, 10.0), read=timeout)
        self._attempts = 1 + max(0, retries)
        self._backoff = backoff
        self._sleep = sleep

    def get(self, url: str, check: Callable[[bytes], T]) -> tuple[bytes, T]:
        """The bytes at `url` and what `check` makes of them (it raises ValueError for bytes that are not a
        whole image: asked again, then the last reason).

        Raises:
            FetchError: a 4xx, the retries spent, or every answer refused by `check`.
        """
        last = "no attempt"
        for attempt in range(self._attempts):
            if attempt:
                self._sleep(min(30.0, self._backoff * 2 ** (attempt - 1)))
            stop.check()  # a process asked to stop downloads nothing more (its waits end at once: stop.sleep)
            try:
                response = self._http.request("GET", url, timeout=self._timeout, retries=self._retry,
                                              preload_content=True)
            except (urllib3.exceptions.ProtocolError, urllib3.exceptions.DecodeError) as error:
                last = f"cut off mid-download ({type(error).__name__})"
                continue
            except urllib3.exceptions.HTTPError as error:  # connection, timeout: urllib3's retries are spent
                if isinstance(getattr(error, "reason", None), urllib3.exceptions.ProtocolError):
                    raise FetchError(f"cut off mid-download, {self._attempts} times: {_reason(error)}") from None
                raise FetchError(f"{type(error).__name__}: {_reason(error)}") from None
            if response.status >= 400:
                raise FetchError(f"HTTP {response.status}")
            data = response.data
            try:
                return data, check(data)
            except ValueError as error:
                last = str(error)
        raise FetchError(f"{last} (after {self._attempts} attempts)")

    def close(self) -> None:
        self._http.clear()


def _reason(error: Exception) -> str:
    reason = getattr(error, "reason", None) or error
    text = reason.args[0] if reason.args and isinstance(reason.args[0], str) else str(reason)
    return " ".join(text.split())[:200]
