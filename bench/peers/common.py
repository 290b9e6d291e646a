"""What every peer shares, so that they all do the same work and write the same fields as the pipeline.

- `Client`: a plain requests.Session client for the same three TMDB calls the pipeline makes
  (/search/movie, /movie/{id}?append_to_response=credits,external_ids,images,..., /configuration), as a
  hand-written script would do them: on a 429 or 5xx the thread waits Retry-After (or backs off) and retries,
  and an optional process-wide request rate spaces requests evenly. The pipeline's client does more (see
  `RateLimiter` below), so the peers show what that discipline is worth.
- `enrich_one`: one movie, through the project's own matching and extract functions, into the same patch
  of `tmdb`, `images` and `enrichment` that the pipeline writes.
- `needs_enrichment`: the pipeline's default `--reprocess missing` rule for both enrichers.
"""

from __future__ import annotations

import argparse
import threading
import time
from typing import Any

import orjson
import requests
from requests.adapters import HTTPAdapter

from movie_enrichment.model import now_iso
from movie_enrichment.transforms import extract, fields, matching

# The pipeline's io.tmdb.DETAILS_PARTS (not imported: that package brings Apache Beam into a plain script); the
# smoke benchmark's output check fails when the two differ.
APPEND = ("credits", "external_ids", "images", "keywords", "release_dates", "translations", "videos")
POSTER_SIZE, BACKDROP_SIZE = "w500", "w1280"
RETRIES = 5


class RateLimiter:
    """Evenly spaced requests for every thread of the process, and nothing more.

    Simpler than the pipeline's `movie_enrichment.io.tmdb.RateLimiter`, which aims a little under the rate
    (`RATE_MARGIN`), also caps the requests sent in any sliding second (threads that wake late send bursts),
    and on a 429 holds every thread back for Retry-After (`pause()`), where a peer only sleeps the thread that
    got it.
    """

    def __init__(self, rate: float):
        self._interval = 1.0 / rate if rate and rate > 0 else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        if not self._interval:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self._interval
        if slot > now:
            time.sleep(slot - now)


class RequestFailed(Exception):
    pass


class Client:
    """One requests.Session (a pool of `pool` keep-alive connections) for the TMDB calls."""

    def __init__(self, base_url: str, api_key: str, pool: int = 1, limiter: RateLimiter | None = None,
                 timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.limiter = limiter or RateLimiter(0)
        self.timeout = timeout
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=max(1, pool))
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"Accept": "application/json"})

    def close(self) -> None:
        self.session.close()

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict | None:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        query["api_key"] = self.api_key
        for attempt in range(RETRIES + 1):
            self.limiter.acquire()
            try:
                response = self.session.get(self.base_url + path, params=query, timeout=self.timeout)
            except requests.RequestException as error:
                if attempt == RETRIES:
                    raise RequestFailed(f"{type(error).__name__}: {error}") from None
                time.sleep(min(30.0, 0.5 * 2 ** attempt))
                continue
            if response.status_code == 404:
                return None
            if response.status_code == 429 or response.status_code >= 500:
                if attempt == RETRIES:
                    raise RequestFailed(f"HTTP {response.status_code} from {path} after retries")
                wait = response.headers.get("Retry-After")
                time.sleep(float(wait) if wait and wait.replace(".", "", 1).isdigit() else 0.5 * 2 ** attempt)
                continue
            if response.status_code >= 400:
                raise RequestFailed(f"HTTP {response.status_code} from {path}")
            return orjson.loads(response.content)
        raise RequestFailed("no attempt")

    def configuration(self) -> dict:
        return self.get("/configuration") or {}

    def search_movie(self, query: str) -> list[dict]:
        body = self.get("/search/movie", {"query": query, "include_adult": "false"})
        return list((body or {}).get("results") or [])

    def find_by_imdb(self, imdb_id: str) -> list[dict]:
        body = self.get(f"/find/{imdb_id}", {"external_source": "imdb_id"})
        return list((body or {}).get("movie_results") or [])

    def movie_details(self, tmdb_id: int) -> dict | None:
        return self.get(f"/movie/{int(tmdb_id)}", {"append_to_response": ",".join(APPEND)})


def needs_enrichment(record: Any) -> bool:
    """The pipeline's `--reprocess missing` for metadata and images: no outcome yet, or a failed one."""
    if not isinstance(record, dict):
        return False
    done = record.get("enrichment") if isinstance(record.get("enrichment"), dict) else {}
    for enricher in ("metadata", "images"):
        outcome = done.get(enricher)
        status = outcome.get("status") if isinstance(outcome, dict) else None
        if status is None or status == "failed":
            return True
    return False


def enrich_one(client: Client, image_base: str, key: str, record: dict) -> dict:
    """Looks one movie up (search, then details with everything appended) and returns its patch."""
    prior = record.get("enrichment") if isinstance(record.get("enrichment"), dict) else {}
    now = now_iso()
    inputs = fields.match_inputs(record)  # as the pipeline keeps them, so the outputs compare equal
    try:
        query = matching.query_from_record(key, record)
    except matching.InvalidRecord as error:
        outcome = {"status": "invalid", "updated_at": now, "error": str(error), "match_inputs": inputs}
        return {"enrichment": {**prior, "metadata": {**outcome, "match_score": None}, "images": outcome}}
    status, error, score, details = "ok", None, None, None
    try:
        result = matching.match_movie(query, client.search_movie, client.find_by_imdb, client.movie_details)
        status, score, error = result.status, result.score, result.reason
        if status == "ok":
            details = result.details or client.movie_details(result.tmdb_id)
            if details is None:
                status, error = "not_found", f"TMDB has no movie {result.tmdb_id}"
    except RequestFailed as failure:
        status, error = "failed", str(failure)
    now = now_iso()
    if status == "failed" and isinstance(prior.get("metadata"), dict) and prior["metadata"].get("status") == "ok":
        return {"enrichment": dict(prior)}  # a transient failure never erases an earlier success
    ok = status == "ok"
    score = round(score, 4) if isinstance(score, (int, float)) else None
    explained = {"match": result.match} if ok and result.match else {}
    return {
        "tmdb": extract.metadata_block(details, image_base=image_base) if ok else None,
        "images": extract.images_block(details, image_base, POSTER_SIZE, BACKDROP_SIZE) if ok else None,
        "enrichment": {**prior,
                       "metadata": {"status": status, "updated_at": now, "error": None if ok else error,
                                    "match_inputs": inputs, **explained, "match_score": score},
                       "images": {"status": status, "updated_at": now, "error": None if ok else error,
                                  "match_inputs": inputs, **explained}},
    }


def image_base(client: Client) -> str:
    return extract.image_base(client.configuration())


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--input", required=True, help="the movie database (a JSON object keyed by title)")
    p.add_argument("--output", required=True, help="where the enriched database goes (may be the input)")
    p.add_argument("--base-url", required=True, help="the TMDB API root, e.g. http://127.0.0.1:PORT/3")
    p.add_argument("--api-key", required=True)
    p.add_argument("--concurrency", type=int, default=16, help="requests in flight at once (peers with threads)")
    p.add_argument("--max-requests-per-second", type=float, default=0.0, help="0 = unlimited")
    p.add_argument("--limit", type=int, default=0,
                   help="enrich only the first LIMIT movies that need it (the rest stay as they are); 0 = all. "
                        "Used to time slow loops on a subset, whose figures are then labelled extrapolated.")
    return p


def load_orjson(path: str) -> dict:
    with open(path, "rb") as handle:
        return orjson.loads(handle.read())


def save_orjson(path: str, db: dict) -> None:
    """Writes in place as the input was written (two-space indent), like the pipeline does."""
    with open(path, "wb") as handle:
        handle.write(orjson.dumps(db, option=orjson.OPT_INDENT_2) + b"\n")


def pending_keys(db: dict, limit: int = 0) -> list[str]:
    keys = [key for key, record in db.items() if needs_enrichment(record)]
    return keys[:limit] if limit else keys
