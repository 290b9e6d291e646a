"""A local TMDB-compatible HTTP server for tests and benchmarks, with injectable faults.

Serves a catalog of full TMDB movie detail bodies (credits, images and external_ids embedded; translations,
release dates, videos, keywords, collections and images in more languages made per film by `tmdb_parts`)
under ``/3``: configuration, search/movie, movie/{id} (+append_to_response, include_image_language),
movie/{id}/<part> for each of them, find/{imdb_id} and movie/changes (the ids edited in a window of
at most 14 days; tests edit films with `TmdbServer.change_movie`). With `realistic_bodies`, details bodies
carry the bulk of real ones (50-150 KB of crew and production companies that no enricher reads). Stdlib only (orjson if
present).
"""

from __future__ import annotations

import argparse
import bisect
import collections
import dataclasses
import datetime
import http.server
import json
import pathlib
import random
import signal
import socket
import struct
import sys
import threading
import time
import unicodedata
import urllib.parse
from typing import Any

try:
    import orjson

    def _dumps(obj) -> bytes:
        return orjson.dumps(obj)
except ImportError:  # pragma: no cover
    def _dumps(obj) -> bytes:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

from movie_enrichment.testing import images, tmdb_parts  # noqa: E402 - after the optional orjson

DEFAULT_CATALOG = pathlib.Path(__file__).parent / "data" / "catalog.json"
DEFAULT_BEARER = "test.read-access.token-for-the-local-tmdb-server-0123456789"

ERROR_401 = {"status_code": 7, "status_message": "Invalid API key: You must be granted a valid key.", "success": False}
ERROR_404 = {"status_code": 34, "status_message": "The resource you requested could not be found.", "success": False}
ERROR_429 = {"status_code": 25, "status_message": "Your request count (#) is over the allowed limit of (40).",
             "success": False}
ERROR_5XX = {"status_code": 11, "status_message": "Internal error: Something went wrong, contact TMDb.", "success": False}
ERROR_422_DATES = {"status_code": 20, "status_message": "Invalid date range: Should be a range no longer than 14 days.",
                   "success": False}
ERROR_400_PAGE = {"status_code": 22, "success": False,
                  "status_message": "Invalid page: Pages start at 1 and max at 500. They are expected to be an integer."}

CONFIGURATION = {
    "images": {
        "base_url": "http://image.tmdb.org/t/p/",
        "secure_base_url": "https://image.tmdb.org/t/p/",
        "backdrop_sizes": ["w300", "w780", "w1280", "original"],
        "logo_sizes": ["w45", "w92", "w154", "w185", "w300", "w500", "original"],
        "poster_sizes": ["w92", "w154", "w185", "w342", "w500", "w780", "original"],
        "profile_sizes": ["w45", "w185", "h632", "original"],
        "still_sizes": ["w92", "w185", "w300", "original"],
    },
    "change_keys": [
        "adult", "air_date", "also_known_as", "alternative_titles", "biography", "birthday", "budget", "cast",
        "certifications", "character_names", "created_by", "crew", "deathday", "episode", "episode_number",
        "episode_run_time", "freebase_id", "freebase_mid", "general", "genres", "guest_stars", "homepage", "images",
        "imdb_id", "languages", "name", "network", "origin_country", "original_name", "original_title", "overview",
        "parts", "place_of_birth", "plot_keywords", "production_code", "production_companies",
        "production_countries", "releases", "revenue", "runtime", "season", "season_number", "season_regular",
        "spoken_languages", "status", "tagline", "title", "translations", "tvdb_id", "tvrage_id", "type", "video",
        "videos",
    ],
}

PARTS = ("credits", "images", "external_ids") + tuple(tmdb_parts.MADE)
ENDPOINTS = ("configuration", "search/movie", "movie", *(f"movie/{part}" for part in PARTS), "find",
             "movie/changes", "other")
LOOKUP_ENDPOINTS = ("search/movie", "movie", "find")  # what the lookup of a movie asks
SEARCH_KEYS = ("adult", "backdrop_path", "genre_ids", "id", "original_language", "original_title", "overview",
               "popularity", "poster_path", "release_date", "title", "video", "vote_average", "vote_count")
PAGE_SIZE = 20
CHANGES_PAGE_SIZE = 100
CHANGES_MAX_DAYS = 14
# Ids of films that /movie/changes lists as edited though no catalog has them (`changes_noise_per_day`): TMDB's
# feed lists every edited film, not only the user's.
NOISE_ID_BASE = 900_000_000


@dataclasses.dataclass
class Faults:
    """Per-request fault probabilities, drawn from the server's one seeded random.Random under a lock."""

    error_5xx: float = 0.0
    burst_429: float = 0.0
    burst_length: int = 5
    stall: float = 0.0
    stall_seconds: float = 5.0
    truncated: float = 0.0
    reset: float = 0.0
    invalid_key: bool = False


def load_catalog(path: str | pathlib.Path | None = None) -> list[dict]:
    """Reads a catalog (JSON list of full movie detail bodies); defaults to the one shipped in data/."""
    data = pathlib.Path(path or DEFAULT_CATALOG).read_bytes()
    return orjson.loads(data) if "orjson" in globals() else json.loads(data)


def normalise(text: str | None) -> str:
    """NFKD, accents stripped, casefolded; punctuation and '·' become spaces, '&' stays a word."""
    if not text:
        return ""
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()
    out = []
    for c in text:
        if c.isalnum():
            out.append(c)
        elif c == "&":
            out.append(" & ")
        else:
            out.append(" ")
    return " ".join("".join(out).split())


def _words(text: str | None) -> list[str]:
    return normalise(text).split()


def _year(movie: dict) -> int | None:
    date = movie.get("release_date") or ""
    return int(date[:4]) if len(date) >= 4 and date[:4].isdigit() else None


class _Catalog:
    """Movies by id and imdb id, and a word index over title and original_title for search."""

    def __init__(self, movies: list[dict]):
        self.movies = movies
        self.by_id: dict[int, int] = {}
        self.by_imdb: dict[str, int] = {}
        index: dict[str, set[int]] = collections.defaultdict(set)
        self.search_items: list[dict] = []
        for i, movie in enumerate(movies):
            self.by_id[int(movie["id"])] = i
            imdb = movie.get("imdb_id") or (movie.get("external_ids") or {}).get("imdb_id")
            if imdb:
                self.by_imdb[imdb] = i
            for word in set(_words(movie.get("title")) + _words(movie.get("original_title"))):
                index[word].add(i)
            item = {k: movie.get(k) for k in SEARCH_KEYS if k != "genre_ids"}
            item["genre_ids"] = [g["id"] for g in movie.get("genres") or []]
            item["adult"], item["video"] = bool(item.get("adult")), bool(item.get("video"))
            self.search_items.append({k: item.get(k) for k in SEARCH_KEYS})
        self.index = dict(index)
        self.keys = sorted(self.index)
        self.popularity = [float(m.get("popularity") or 0.0) for m in movies]
        self.years = [_year(m) for m in movies]
        # The parts `tmdb_parts` makes, per (film, part): the same every time, until the film is edited (`forget`).
        self._made: dict[tuple[int, str], Any] = {}
        self.gone: set[int] = set()  # the films deleted (`TmdbServer.remove_movie`): no search finds them

    def _make(self, i: int, part: str, make) -> Any:
        found = self._made.get((i, part), self._made)
        if found is self._made:
            found = self._made[(i, part)] = make(self.movies[i])
        return found

    def forget(self, i: int) -> None:
        """Film `i` was edited: its parts are made again."""
        for key in [key for key in self._made if key[0] == i]:
            self._made.pop(key, None)

    def _matching(self, word: str) -> set[int]:
        """Indexes of movies having `word` as a word or a word prefix (bisect over the sorted keys)."""
        found = set(self.index.get(word, ()))
        pos = bisect.bisect_left(self.keys, word)
        while pos < len(self.keys) and self.keys[pos].startswith(word):
            found |= self.index[self.keys[pos]]
            pos += 1
        return found

    def search(self, query: str, year: int | None = None) -> list[int]:
        words = _words(query)
        if not words:
            return []
        hits: set[int] | None = None
        for word in sorted(set(words), key=lambda w: len(self.index.get(w, ())) or 1 << 30):
            found = self._matching(word)
            hits = found if hits is None else hits & found
            if not hits:
                return []
        if year is not None:
            hits = {i for i in hits if self.years[i] == year}
        hits -= self.gone
        return sorted(hits, key=lambda i: (-self.popularity[i], i))

    def details(self, i: int, append: list[str], query: dict | None = None) -> dict:
        movie = self.movies[i]
        body = {k: v for k, v in movie.items() if k not in PARTS}
        body.setdefault("belongs_to_collection", self._make(i, "collection", tmdb_parts.collection))
        for part in append:
            if part in PARTS:
                body[part] = self.part(i, part, with_id=False, query=query)
        return body

    def part(self, i: int, part: str, with_id: bool = True, query: dict | None = None) -> dict:
        """A film's part; `images` filtered by the query's languages as TMDB filters them (`tmdb_parts`)."""
        movie = self.movies[i]
        value = dict(movie.get(part) or {})
        if part in tmdb_parts.MADE:
            value = movie[part] if part in movie else self._make(i, part, tmdb_parts.MADE[part])
        elif part == "credits":
            value.setdefault("cast", [])
            value.setdefault("crew", [])
        elif part == "images":
            value = tmdb_parts.filter_images(self._make(i, "images", tmdb_parts.images), query or {})
        elif part == "external_ids":
            value.setdefault("imdb_id", movie.get("imdb_id"))
        return {"id": movie["id"], **value} if with_id else value


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def version_string(self) -> str:
        return "LocalTMDB/1.0"

    def log_message(self, format, *args):  # noqa: A002 - silenced
        pass

    def do_GET(self):
        self._handle()

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self._handle()

    def _send(self, status: int, body: dict, headers: dict | None = None, truncate: bool = False):
        data = _dumps(body)
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if truncate:
            self.send_header("Connection", "close")
        self.end_headers()
        if truncate:
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
        else:
            self.wfile.write(data)

    def _reset(self):
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
        self.close_connection = True

    def _handle(self):
        tmdb: TmdbServer = self.server.tmdb
        parsed = urllib.parse.urlsplit(self.path)
        path = parsed.path.rstrip("/") or "/"
        query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
        if path in ("/__stats", "/3/__stats"):
            return self._send(200, tmdb.counts())
        if path in ("/__reset", "/3/__reset"):
            tmdb.reset_counts()
            return self._send(200, {"success": True})
        if path in ("/__change", "/3/__change"):
            # For benchmarks in another process: ids=1,2,3[&at=epoch seconds][&suffix=text added to overviews].
            ids = [int(i) for i in query.get("ids", "").split(",") if i.strip().isdigit()]
            known = [i for i in ids if i in tmdb.catalog.by_id]
            for tmdb_id in known:
                movie = tmdb.catalog.movies[tmdb.catalog.by_id[tmdb_id]]
                tmdb.change_movie(tmdb_id, float(query["at"]) if query.get("at") else None,
                                  overview=(movie.get("overview") or "") + query.get("suffix", " (edited)"))
            return self._send(200, {"changed": len(known)})
        if path.startswith(images.PREFIX):  # the image host: not the API, so neither counted nor faulted
            return images.send(self, path, tmdb.image_faults)
        endpoint, route = _classify(path)
        tmdb._arrived(endpoint)
        plan = tmdb._plan(query, self.headers.get("Authorization"))
        if plan.get("reset"):
            tmdb._count(endpoint, "reset")
            return self._reset()
        if "status" in plan:
            tmdb._count(endpoint, str(plan["status"]))
            return self._send(plan["status"], plan["body"], plan.get("headers"))
        if plan.get("sleep"):
            time.sleep(plan["sleep"])
        status, body = tmdb._route(route, query)
        tmdb._count(endpoint, str(status))
        self._send(status, body, truncate=plan.get("truncated", False))


def _classify(path: str) -> tuple[str, list[str]]:
    """Maps a path to its counting endpoint name and the path segments after /3."""
    parts = [p for p in path.split("/") if p]
    if not parts or parts[0] != "3":
        return "other", []
    route = parts[1:]
    if route == ["configuration"]:
        return "configuration", route
    if route == ["search", "movie"]:
        return "search/movie", route
    if route == ["movie", "changes"]:
        return "movie/changes", route
    if len(route) == 2 and route[0] == "movie":
        return "movie", route
    if len(route) == 3 and route[0] == "movie" and route[2] in PARTS:
        return f"movie/{route[2]}", route
    if len(route) == 2 and route[0] == "find":
        return "find", route
    return "other", route


class _HTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class TmdbServer:
    """A TMDB-compatible server on 127.0.0.1; `faults`, `rate_limit`, latency and `api_key` are mutable live."""

    def __init__(self, catalog: list[dict] | None = None, api_key: str = "test-api-key",
                 bearer_token: str | None = DEFAULT_BEARER, latency_ms: float = 0, jitter_ms: float = 0,
                 rate_limit: float | None = None, faults: Faults | None = None, seed: int = 0,
                 host: str = "127.0.0.1", port: int = 0, realistic_bodies: bool = False,
                 changes_noise_per_day: int = 0):
        self.catalog = _Catalog(load_catalog() if catalog is None else catalog)
        self.realistic_bodies = realistic_bodies
        self.changes_noise_per_day = changes_noise_per_day
        self.changed_at: dict[int, float] = {}  # tmdb id -> when it was last edited (epoch seconds)
        self.api_key = api_key
        self.bearer_token = bearer_token
        self.latency_ms = latency_ms
        self.jitter_ms = jitter_ms
        self.rate_limit = rate_limit
        self.faults = faults or Faults()
        # File name (abc.jpg) or size and name (w500/abc.jpg) -> "corrupt", "cut" or "missing" (`images.FAULTS`).
        self.image_faults: dict[str, str] = {}
        self.host, self.port = host, port
        self.url: str | None = None
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._window: collections.deque[float] = collections.deque()
        self._burst_left = 0
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.reset_counts()

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> "TmdbServer":
        self._httpd = _HTTPServer((self.host, self.port), _Handler)
        self._httpd.tmdb = self
        self.port = self._httpd.server_address[1]
        self.url = f"http://{self.host}:{self.port}/3"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="tmdb-test-server", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)
            self._httpd = self._thread = None

    def __enter__(self) -> "TmdbServer":
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- counting ----------------------------------------------------------------------------
    def counts(self) -> dict:
        with self._lock:
            return {"total": self._total, "by_endpoint": dict(self._by_endpoint), "by_status": dict(self._by_status),
                    "faults": dict(self._faults_injected), "first_at": self._first_at,
                    "first_lookup_at": self._first_lookup_at, "last_at": self._last_at}

    def reset_counts(self):
        with self._lock:
            self._total = 0
            self._by_endpoint = {name: 0 for name in ENDPOINTS}
            self._by_status: dict[str, int] = {}
            self._faults_injected: dict[str, int] = {}
            # time.monotonic() (one clock for every process of the machine), for benchmarks in another process:
            # when the first request and the first lookup (search, details, find) arrived, when the last answer left.
            self._first_at: float | None = None
            self._first_lookup_at: float | None = None
            self._last_at: float | None = None

    def _arrived(self, endpoint: str):
        now = time.monotonic()
        with self._lock:
            if self._first_at is None:
                self._first_at = now
            if self._first_lookup_at is None and endpoint in LOOKUP_ENDPOINTS:
                self._first_lookup_at = now

    def _count(self, endpoint: str, status: str):
        with self._lock:
            self._last_at = time.monotonic()
            self._total += 1
            self._by_endpoint[endpoint] = self._by_endpoint.get(endpoint, 0) + 1
            self._by_status[status] = self._by_status.get(status, 0) + 1

    # -- edits ------------------------------------------------------------------------------------
    def change_movie(self, tmdb_id: int, at: datetime.datetime | float | None = None, **fields) -> None:
        """Edits a film as TMDB's editors do: its details body takes `fields` (search results keep the old
        ones), and /movie/changes lists it from `at` on (default now)."""
        when = time.time() if at is None else at.timestamp() if isinstance(at, datetime.datetime) else float(at)
        with self._lock:
            self.catalog.movies[self.catalog.by_id[int(tmdb_id)]].update(fields)
            self.catalog.forget(self.catalog.by_id[int(tmdb_id)])
            self.changed_at[int(tmdb_id)] = when

    def remove_movie(self, tmdb_id: int, merged_into: int | None = None) -> None:
        """Deletes a film as TMDB does (its details answer 404), or, with `merged_into`, merges it into a new id:
        the same film (title, IMDb id) is found by search and /find under that id only."""
        with self._lock:
            cat = self.catalog
            i = cat.by_id.pop(int(tmdb_id))
            cat.forget(i)
            if merged_into is None:
                cat.gone.add(i)
                cat.by_imdb = {imdb: j for imdb, j in cat.by_imdb.items() if j != i}
                return
            cat.movies[i] = {**cat.movies[i], "id": int(merged_into)}
            cat.search_items[i] = {**cat.search_items[i], "id": int(merged_into)}
            cat.by_id[int(merged_into)] = i

    # -- per-request decisions ---------------------------------------------------------------
    def _plan(self, query: dict, authorization: str | None) -> dict:
        """Decides auth, rate limit, faults and latency for one request (before routing)."""
        faults = self.faults
        if faults.invalid_key:
            return {"status": 401, "body": ERROR_401}
        bearer_ok = (self.bearer_token is not None and authorization is not None
                     and authorization.strip() == f"Bearer {self.bearer_token}")
        if not bearer_ok and query.get("api_key") != self.api_key:
            return {"status": 401, "body": ERROR_401}
        too_many = {"status": 429, "body": ERROR_429, "headers": {"Retry-After": "1"}}
        if self.rate_limit is not None:
            with self._lock:
                now = time.monotonic()
                while self._window and self._window[0] <= now - 1.0:
                    self._window.popleft()
                if len(self._window) >= self.rate_limit:
                    return too_many
                self._window.append(now)
        with self._lock:
            rng = self._rng
            draws = {name: rng.random() < getattr(faults, name)
                     for name in ("reset", "burst_429", "error_5xx", "stall", "truncated")}
            jitter = rng.uniform(-self.jitter_ms, self.jitter_ms) if self.jitter_ms else 0.0
            status_5xx = rng.choice((500, 502, 503)) if draws["error_5xx"] else None
            fault = ("reset" if draws["reset"] else "burst_429" if self._burst_left > 0 or draws["burst_429"]
                     else "error_5xx" if status_5xx else "stall" if draws["stall"]
                     else "truncated" if draws["truncated"] else None)
            if fault:
                self._faults_injected[fault] = self._faults_injected.get(fault, 0) + 1
            if draws["reset"]:
                return {"reset": True}
            if self._burst_left > 0:
                self._burst_left -= 1
                return too_many
            if draws["burst_429"]:
                self._burst_left = max(0, int(faults.burst_length) - 1)
                return too_many
        if status_5xx:
            return {"status": status_5xx, "body": ERROR_5XX}
        sleep = faults.stall_seconds if draws["stall"] else 0.0
        sleep += max(0.0, self.latency_ms + jitter) / 1000.0
        return {"sleep": sleep, "truncated": draws["truncated"]}

    # -- routing -----------------------------------------------------------------------------
    def _route(self, route: list[str], query: dict) -> tuple[int, dict]:
        cat = self.catalog
        if route == ["configuration"]:
            return 200, images.configuration(CONFIGURATION, self.url)
        if route == ["movie", "changes"]:
            return self._changes(query)
        if route == ["search", "movie"]:
            return self._search(query)
        if len(route) in (2, 3) and route[0] == "movie":
            # Like TMDB, /movie/{id} takes an IMDb id as well as a TMDB id.
            i = cat.by_id.get(int(route[1])) if route[1].isdigit() else cat.by_imdb.get(route[1])
            if i is None:
                return 404, ERROR_404
            if len(route) == 2:
                append = [a.strip() for a in query.get("append_to_response", "").split(",") if a.strip()]
                body = cat.details(i, append, query)
                return 200, _padded(body) if self.realistic_bodies else body
            if route[2] in PARTS:
                return 200, cat.part(i, route[2], query=query)
        if len(route) == 2 and route[0] == "find":
            i = cat.by_imdb.get(route[1]) if query.get("external_source", "imdb_id") == "imdb_id" else None
            movies = [] if i is None else [{**cat.search_items[i], "media_type": "movie"}]
            return 200, {"movie_results": movies, "person_results": [], "tv_results": [],
                         "tv_episode_results": [], "tv_season_results": []}
        return 404, ERROR_404

    def _changes(self, query: dict) -> tuple[int, dict]:
        """/movie/changes: ids edited from start_date to end_date (both days included; default the last day),
        100 per page, as {"id", "adult"}."""
        page_text = query.get("page") or "1"
        if not page_text.isdigit() or not 1 <= int(page_text) <= 500:
            return 400, ERROR_400_PAGE
        page = int(page_text)
        today = datetime.datetime.now(datetime.timezone.utc).date()
        try:
            end = datetime.date.fromisoformat(query["end_date"]) if query.get("end_date") else today
            start = datetime.date.fromisoformat(query["start_date"]) if query.get("start_date") else \
                end - datetime.timedelta(days=1)
        except ValueError:
            return 422, ERROR_422_DATES
        if not 0 <= (end - start).days <= CHANGES_MAX_DAYS:
            return 422, ERROR_422_DATES
        low = datetime.datetime.combine(start, datetime.time(), datetime.timezone.utc).timestamp()
        high = datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time(),
                                         datetime.timezone.utc).timestamp()
        with self._lock:
            ids = [tmdb_id for tmdb_id, when in self.changed_at.items() if low <= when < high]
        noise = min(self.changes_noise_per_day, 10_000)
        for day in range((end - start).days + 1):
            ordinal = (start + datetime.timedelta(days=day)).toordinal()
            ids += range(NOISE_ID_BASE + ordinal % 10_000 * 10_000, NOISE_ID_BASE + ordinal % 10_000 * 10_000 + noise)
        ids.sort()
        shown = ids[(page - 1) * CHANGES_PAGE_SIZE: page * CHANGES_PAGE_SIZE]
        return 200, {"results": [{"id": i, "adult": False} for i in shown], "page": page,
                     "total_pages": -(-len(ids) // CHANGES_PAGE_SIZE), "total_results": len(ids)}

    def _search(self, query: dict) -> tuple[int, dict]:
        page_text = query.get("page") or "1"
        if not page_text.isdigit() or not 1 <= int(page_text) <= 500:
            return 400, ERROR_400_PAGE
        page = int(page_text)
        years = {int(v) for v in ((query.get(n) or "").strip() for n in ("year", "primary_release_year")) if v.isdigit()}
        hits = [] if len(years) > 1 else self.catalog.search(query.get("query") or "", min(years, default=None))
        if not hits:
            return 200, {"page": page, "results": [], "total_pages": 1, "total_results": 0}
        items = self.catalog.search_items
        results = [items[i] for i in hits[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]]
        return 200, {"page": page, "results": results, "total_pages": -(-len(hits) // PAGE_SIZE),
                     "total_results": len(hits)}


_JOBS = ("Stunts", "Set Decoration", "Costume Design", "Makeup Artist", "Sound Editor", "Visual Effects", "Grip",
         "Gaffer", "Production Assistant", "Key Hair Stylist", "Boom Operator", "Storyboard Artist")
_DEPARTMENTS = ("Crew", "Art", "Costume & Make-Up", "Sound", "Visual Effects", "Camera", "Lighting", "Production")


def _random_path(rng: random.Random) -> str:
    return "/" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
                         for _ in range(27)) + ".jpg"


def _padding_pool(size: int = 4000) -> tuple[list[dict], list[dict]]:
    """Crew members below the director and production companies shaped as TMDB's (see the Riddick fixture), with real
    ids, names and random paths, so that they compress as real bodies do."""
    rng = random.Random(87421)
    crew = [{"adult": False, "gender": rng.choice((0, 1, 2)), "id": 1_000_000 + n,
             "known_for_department": rng.choice(_DEPARTMENTS), "name": f"Crew Member {n} {rng.randrange(10**6)}",
             "original_name": f"Crew Member {n}", "popularity": round(rng.random() * 5, 3),
             "profile_path": _random_path(rng) if rng.random() < 0.4 else None,
             "credit_id": "%024x" % rng.getrandbits(96), "department": rng.choice(_DEPARTMENTS),
             "job": rng.choice(_JOBS)} for n in range(size)]
    # Production companies, not image logos: the images enricher reads the logos now.
    companies = [{"id": 2_000_000 + n, "logo_path": _random_path(rng) if rng.random() < 0.7 else None,
                  "name": f"Production Company {n} {rng.randrange(10**6)}",
                  "origin_country": rng.choice(("US", "GB", "FR", "DE", "JP", ""))} for n in range(size // 4)]
    return crew, companies


_POOL: tuple[list[dict], list[dict]] | None = None


def _padded(body: dict) -> dict:
    """A details body grown to a real one's size (50-150 KB, fixed per film): more crew below the director,
    and production companies, which no enricher reads."""
    global _POOL
    if _POOL is None:
        _POOL = _padding_pool()
    crew_pool, company_pool = _POOL
    target = 50_000 + (int(body.get("id") or 0) * 7919) % 100_000
    body = dict(body)
    if isinstance(body.get("credits"), dict):
        count = min(len(crew_pool) - 1, target * 3 // 4 // 290)  # a padding crew entry is about 290 bytes
        start = int(body["id"]) % (len(crew_pool) - count)
        body["credits"] = {**body["credits"], "crew": list(body["credits"].get("crew") or [])
                           + crew_pool[start:start + count]}
        target //= 4
    if isinstance(body.get("images"), dict):
        count = min(len(company_pool) - 1, target // 110)  # a company is about 110 bytes
        start = int(body["id"]) % (len(company_pool) - count)
        body["production_companies"] = list(body.get("production_companies") or []) + \
            company_pool[start:start + count]
    return body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a local TMDB-compatible API for tests and benchmarks.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--catalog", default=None, help="JSON list of full movie detail bodies")
    parser.add_argument("--api-key", default="test-api-key")
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--jitter-ms", type=float, default=0)
    parser.add_argument("--rate-limit", type=float, default=None)
    parser.add_argument("--error-5xx", type=float, default=0.0)
    parser.add_argument("--truncated", type=float, default=0.0)
    parser.add_argument("--stall", type=float, default=0.0)
    parser.add_argument("--stall-seconds", type=float, default=5.0)
    parser.add_argument("--reset", type=float, default=0.0)
    parser.add_argument("--burst-429", type=float, default=0.0)
    parser.add_argument("--burst-length", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--realistic-bodies", action="store_true",
                        help="details bodies of a real film's size (50-150 KB), padded with what no enricher reads")
    parser.add_argument("--changes-noise-per-day", type=int, default=0,
                        help="films that /movie/changes lists per day besides the catalog's own edits")
    args = parser.parse_args(argv)
    faults = Faults(error_5xx=args.error_5xx, burst_429=args.burst_429, burst_length=args.burst_length,
                    stall=args.stall, stall_seconds=args.stall_seconds, truncated=args.truncated, reset=args.reset)
    server = TmdbServer(load_catalog(args.catalog), api_key=args.api_key, latency_ms=args.latency_ms,
                        jitter_ms=args.jitter_ms, rate_limit=args.rate_limit, faults=faults, seed=args.seed,
                        host=args.host, port=args.port, realistic_bodies=args.realistic_bodies,
                        changes_noise_per_day=args.changes_noise_per_day)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    server.start()
    print(f"TMDB test server listening on {server.url}", flush=True)
    try:
        while not done.wait(0.2):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
