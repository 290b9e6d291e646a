"""The review list (`<database>.review.jsonl`) read a page at a time: filtered by status, searched by title or
key, ambiguous films first, whatever the list's length.

The file is read once per change into a small index (per line: where it is, its status and its lowercased key
and title); a page then reads only its own lines back. Nothing holds the whole list's entries, so a list of
50,000 films costs a page of 50, not 24 MB of HTML.
"""

import dataclasses
import logging
from collections import Counter

import orjson

_LOGGER = logging.getLogger(__name__)

AMBIGUOUS = "ambiguous"
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
TMDB_MOVIE_PAGE = "https://www.themoviedb.org/movie/{}"


@dataclasses.dataclass(frozen=True)
class _Line:
    start: int
    length: int
    status: str
    key: str
    text: str  # the key and the title, lowercased: what `q` searches


@dataclasses.dataclass(frozen=True)
class Page:
    total: int  # entries that pass the filter and the search
    entries: list[dict]


class ReviewIndex:
    """Where each entry of one version of the review list is, in display order (ambiguous first, then the rest,
    each in file order).

    `path` None, or a missing or unreadable file, gives an empty list; a line that is not a JSON object (cut
    short, edited by hand) is skipped, as `io.jsonlines.read` does.
    """

    def __init__(self, path: str | None):
        self.path = path
        first, rest = [], []
        for line in self._scan(path):
            (first if line.status == AMBIGUOUS else rest).append(line)
        self._lines = first + rest
        self.keys = frozenset(line.key for line in self._lines)
        self.counts = dict(Counter(line.status for line in self._lines))

    def __len__(self) -> int:
        return len(self._lines)

    @staticmethod
    def _scan(path: str | None):
        if path is None:
            return
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed below; a missing file is an empty list
        except FileNotFoundError:
            return
        except OSError as error:
            _LOGGER.warning("Could not read %s: %s", path, error)
            return
        with handle:
            start = 0
            for raw in handle:
                try:
                    entry = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    entry = None
                if isinstance(entry, dict):
                    key, title = str(entry.get("key", "")), entry.get("title")
                    status = entry.get("status")
                    yield _Line(start, len(raw), status if isinstance(status, str) else "", key,
                                f"{key}\n{title if isinstance(title, str) else ''}".lower())
                start += len(raw)

    def page(self, status: str | None = None, q: str | None = None, limit: int = DEFAULT_LIMIT,
             offset: int = 0) -> Page:
        """The entries passing `status` (one status, or None for all) and `q` (a case-insensitive substring of
        the key or the title), `offset` of them skipped, at most `limit`; each candidate gets its TMDB page."""
        needle = (q or "").strip().lower()
        chosen = [line for line in self._lines
                  if (not status or line.status == status) and (not needle or needle in line.text)]
        window = chosen[offset:offset + limit]
        return Page(len(chosen), self._read(window))

    def _read(self, lines: list[_Line]) -> list[dict]:
        if not lines:
            return []
        entries = []
        try:
            with open(self.path, "rb") as handle:
                for line in lines:
                    handle.seek(line.start)
                    entries.append(_with_links(orjson.loads(handle.read(line.length))))
        except (OSError, orjson.JSONDecodeError) as error:  # replaced under us: the next request indexes again
            _LOGGER.warning("Could not read %s: %s", self.path, error)
        return entries


def _with_links(entry: dict) -> dict:
    candidates = entry.get("candidates")
    if isinstance(candidates, list):
        entry["candidates"] = [{**c, "tmdb_url": TMDB_MOVIE_PAGE.format(c["tmdb_id"])}
                               if isinstance(c, dict) and isinstance(c.get("tmdb_id"), int) else c
                               for c in candidates]
    return entry


def paging(params) -> tuple[str | None, str | None, int, int]:
    """`status`, `q`, `limit` and `offset` from a request's query parameters, checked.

    Raises:
        ValueError: a limit or offset that is not a whole number, or is negative (limit: below 1).
    """
    def number(name: str, default: int, least: int) -> int:
        value = params.get(name)
        if value in (None, ""):
            return default
        try:
            number = int(value)
        except ValueError:
            raise ValueError(f"{name}={value!r}: not a whole number") from None
        if number < least:
            raise ValueError(f"{name}={value}: at least {least}")
        return number

    return (params.get("status") or None, params.get("q") or None,
            min(number("limit", DEFAULT_LIMIT, 1), MAX_LIMIT), number("offset", 0, 0))
