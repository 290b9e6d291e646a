"""Tests for movie_enrichment.io.tmdb against a tiny local HTTP server: auth, retries, errors, limits, redaction."""

from __future__ import annotations

import json
import pathlib
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from movie_enrichment.io import progress
from movie_enrichment.io.tmdb import (
    APPEND_FOR,
    Observer,
    TmdbAuthError,
    TmdbClient,
    TmdbError,
    TmdbSettings,
    redact,
    state,
)

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "tmdb"
V3_KEY = "0123456789abcdef0123456789abcdef"
V4_TOKEN = ("eyJhbGciOiJIUzI1NiJ9.eyJhdWQiOiIwMTIzNDU2Nzg5YWJjZGVmIiwic3ViIjoidGVzdCIsInNjb3BlcyI6WyJhcGlfcmVhZCJdfQ"
            ".c2lnbmF0dXJlLW9mLXRoZS10b2tlbi1mb3ItdGVzdHM")


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# --- The fake TMDB ----------------------------------------------------------------------------------


def respond(status: int = 200, body: bytes | dict = b"{}", headers: dict | None = None) -> dict:
    if isinstance(body, dict):
        body = json.dumps(body).encode("utf-8")
    return {"kind": "respond", "status": status, "body": body, "headers": headers or {}}


def truncated(body: bytes, missing: int = 100) -> dict:
    """A 200 that announces more bytes than it sends, then closes the connection."""
    return {"kind": "truncated", "body": body, "missing": missing}


def stall(seconds: float) -> dict:
    return {"kind": "stall", "seconds": seconds}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):  # keep the test output clean
        pass

    def do_GET(self):  # noqa: N802 (http.server's naming)
        fake = self.server.fake
        parts = urlsplit(self.path)
        with fake.lock:
            fake.requests.append({"path": parts.path, "query": parse_qs(parts.query, keep_blank_values=True),
                                  "headers": {k.lower(): v for k, v in self.headers.items()},
                                  "raw": self.path})
            action = fake.script[min(len(fake.requests), len(fake.script)) - 1]
        if action["kind"] == "stall":
            fake.release.wait(action["seconds"])
            action = respond(200, {"late": True})
        if action["kind"] == "truncated":
            self.send_response(200)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(action["body"]) + action["missing"]))
            self.end_headers()
            self.wfile.write(action["body"])
            self.wfile.flush()
            self.close_connection = True
            return
        self.send_response(action["status"])
        self.send_header("Content-Type", "application/json;charset=utf-8")
        for name, value in action["headers"].items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(action["body"])))
        self.end_headers()
        self.wfile.write(action["body"])


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # a client that gave up is expected here
        pass


class FakeTmdb:
    """Answers each request with the next scripted action; the last action repeats."""

    def __init__(self):
        self.script = [respond(200, {"id": 1})]
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.fake = self
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/3"

    def settings(self, api_key: str = V3_KEY, **kw) -> TmdbSettings:
        kw.setdefault("retries", 2)
        kw.setdefault("backoff", 0)
        kw.setdefault("timeout", 5.0)
        kw.setdefault("max_requests_per_second", 1000)
        kw.setdefault("budget_dir", None)  # no budget file shared with other processes
        return TmdbSettings(api_key=api_key, base_url=self.base_url, **kw)

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def fresh_process_state():
    # A new fake server may get the port of an earlier one, whose key verdict or Retry-After would still hold.
    state.forget_process_state()


@pytest.fixture
def tmdb():
    fake = FakeTmdb()
    yield fake
    fake.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- Authentication ---------------------------------------------------------------------------------


def test_v3_key_is_sent_as_api_key_parameter(tmdb):
    tmdb.script = [respond(200, fixture_bytes("tmdb_movie_550_details.json"))]
    with TmdbClient(tmdb.settings()) as client:
        body = client.get("/movie/550", {"language": None, "page": 1})
    assert body["id"] == 550 and body["title"] == "Fight Club"
    (request,) = tmdb.requests
    assert request["path"] == "/3/movie/550"
    assert request["query"] == {"api_key": [V3_KEY], "page": ["1"]}  # None parameters are dropped
    assert "authorization" not in request["headers"]
    assert request["headers"]["accept"] == "application/json"


def test_v4_token_is_sent_as_bearer_header_and_never_as_parameter(tmdb):
    assert TmdbSettings(api_key=V4_TOKEN).is_bearer_token and not TmdbSettings(api_key=V3_KEY).is_bearer_token
    with TmdbClient(tmdb.settings(api_key=V4_TOKEN)) as client:
        assert client.get("/configuration") == {"id": 1}
    (request,) = tmdb.requests
    assert request["headers"]["authorization"] == f"Bearer {V4_TOKEN}"
    assert "api_key" not in request["query"]
    assert V4_TOKEN not in request["raw"]


def test_language_setting_is_sent_unless_overridden(tmdb):
    with TmdbClient(tmdb.settings(language="fr-FR")) as client:
        client.get("/movie/1")
        client.get("/movie/1", {"language": "de-DE"})
    assert [r["query"]["language"] for r in tmdb.requests] == [["fr-FR"], ["de-DE"]]


def test_401_is_an_auth_error_and_not_retried(tmdb):
    tmdb.script = [respond(401, fixture_bytes("tmdb_error_401_invalid_key.json"))]
    with TmdbClient(tmdb.settings()) as client:
        with pytest.raises(TmdbAuthError) as excinfo:
            client.get("/movie/550")
    assert "401" in str(excinfo.value)
    assert V3_KEY not in str(excinfo.value)
    assert len(tmdb.requests) == 1


def test_404_is_none(tmdb):
    tmdb.script = [respond(404, fixture_bytes("tmdb_error_404_not_found.json"))]
    with TmdbClient(tmdb.settings()) as client:
        assert client.get("/movie/999999999") is None
        assert client.movie_details(999999999, APPEND_FOR["metadata"]) is None
    assert len(tmdb.requests) == 2
    assert client.stats.errors == 0


def test_get_before_open_is_refused():
    with pytest.raises(RuntimeError):
        TmdbClient(TmdbSettings(api_key=V3_KEY, base_url="http://127.0.0.1:9/3")).get("/movie/1")


# --- Retries ----------------------------------------------------------------------------------------


def test_429_with_retry_after_is_retried_then_succeeds(tmdb):
    body_429 = json.dumps(json.loads(fixture_bytes("tmdb_error_429_rate_limit.json"))["body"]).encode()
    tmdb.script = [respond(429, body_429, {"Retry-After": "0.05"}), respond(200, {"id": 550})]
    with TmdbClient(tmdb.settings(retries=2, backoff=0)) as client:
        assert client.get("/movie/550") == {"id": 550}
    assert len(tmdb.requests) == 2
    assert (client.stats.requests, client.stats.retries, client.stats.throttled, client.stats.errors) == (2, 1, 1, 0)


def test_429_is_retried_after_its_retry_after_and_slows_the_process(tmdb):
    tmdb.script = [respond(429, {"status_code": 25}, {"Retry-After": "7"}), respond(429, {"status_code": 25}),
                   respond(200, {"id": 550})]
    with TmdbClient(tmdb.settings(retries=2, backoff=0)) as client:
        limits = client._limits  # pylint: disable=protected-access
        waited = []
        limits.sleep = waited.append
        assert client.get("/movie/550") == {"id": 550}
        assert waited == [7.0, 1.0]  # its Retry-After; without one, at least a second
        assert limits.throttle.cuts == 1 and limits.throttle.rate(time.monotonic()) < 1000
    assert client.stats.throttled == 2 and client.stats.retries == 2 and client.stats.errors == 0


def test_urllib3_retries_of_5xx_pass_the_rate_limiter_too(tmdb):
    tmdb.script = [respond(503, {}), respond(502, {}), respond(200, {"id": 550})]
    with TmdbClient(tmdb.settings(retries=2, backoff=0)) as client:
        limits = client._limits  # pylint: disable=protected-access
        slots = []
        limits.rate_slot = lambda: slots.append(len(tmdb.requests))
        assert client.get("/movie/550") == {"id": 550}
    # A slot before each attempt, taken when the attempts before it had been answered.
    assert slots == [0, 1, 2] and len(tmdb.requests) == 3
    assert (client.stats.requests, client.stats.retries) == (3, 2)


def test_persistent_503_is_an_error_after_the_retries(tmdb):
    tmdb.script = [respond(503, {"status_message": "Service unavailable"})]
    started = time.monotonic()
    with TmdbClient(tmdb.settings(retries=2, backoff=0)) as client:
        with pytest.raises(TmdbError) as excinfo:
            client.get("/movie/550")
    assert time.monotonic() - started < 3
    assert not isinstance(excinfo.value, TmdbAuthError)
    assert "503" in str(excinfo.value)
    assert len(tmdb.requests) == 3  # the first attempt and two retries
    assert client.stats.errors == 1


def test_stats_count_the_attempts_really_sent(tmdb):
    tmdb.script = [respond(503, {"status_message": "Service unavailable"})]
    with TmdbClient(tmdb.settings(retries=2, backoff=0)) as client:
        with pytest.raises(TmdbError):
            client.get("/movie/550")
    assert len(tmdb.requests) == 3
    assert (client.stats.requests, client.stats.retries) == (3, 2)


def test_invalid_json_body_is_retried_then_succeeds(tmdb):
    tmdb.script = [respond(200, b'{"id": 550, "title": "Fight'), respond(200, {"id": 550})]
    with TmdbClient(tmdb.settings(retries=2)) as client:
        assert client.get("/movie/550") == {"id": 550}
    assert len(tmdb.requests) == 2
    assert client.stats.retries >= 1


def test_always_invalid_json_is_an_error_after_retries(tmdb):
    tmdb.script = [respond(200, b'{"id": 550, "title": "Fight')]
    with TmdbClient(tmdb.settings(retries=2)) as client:
        with pytest.raises(TmdbError) as excinfo:
            client.get("/movie/550")
    assert "invalid JSON" in str(excinfo.value)
    assert len(tmdb.requests) == 3
    assert client.stats.errors == 1


def test_body_shorter_than_content_length_is_retried(tmdb):
    tmdb.script = [truncated(b'{"id": 550, "title": "Fi'), respond(200, {"id": 550})]
    with TmdbClient(tmdb.settings(retries=2)) as client:
        assert client.get("/movie/550") == {"id": 550}
    assert len(tmdb.requests) == 2


def test_body_always_shorter_than_content_length_is_an_error(tmdb):
    tmdb.script = [truncated(b'{"id": 550, "title": "Fi')]
    with TmdbClient(tmdb.settings(retries=2)) as client:
        with pytest.raises(TmdbError) as excinfo:
            client.get("/movie/550")
    assert not isinstance(excinfo.value, TmdbAuthError)
    assert V3_KEY not in str(excinfo.value)
    assert client.stats.errors == 1


def test_read_timeout_is_an_error_quickly(tmdb):
    tmdb.script = [stall(2.0)]
    started = time.monotonic()
    with TmdbClient(tmdb.settings(timeout=0.3, retries=0)) as client:
        with pytest.raises(TmdbError) as excinfo:
            client.get("/movie/550")
    assert time.monotonic() - started < 1.5
    assert V3_KEY not in str(excinfo.value)
    assert len(tmdb.requests) == 1


# --- Secrets ----------------------------------------------------------------------------------------


def test_redact_removes_the_secret_and_any_api_key_parameter():
    assert redact(f"GET /3/movie/1?api_key={V3_KEY}&page=2 failed", None) == "GET /3/movie/1?api_key=***&page=2 failed"
    assert redact(f"Bearer {V4_TOKEN}", V4_TOKEN) == "Bearer ***"
    assert redact("url='http://h/3/x?api_key=abc' other", None) == "url='http://h/3/x?api_key=***' other"
    assert redact("nothing to hide", V3_KEY) == "nothing to hide"


def test_settings_repr_hides_the_key():
    assert V3_KEY not in repr(TmdbSettings(api_key=V3_KEY))
    assert V4_TOKEN not in str(TmdbSettings(api_key=V4_TOKEN))


def test_connection_error_message_does_not_contain_the_key():
    settings = TmdbSettings(api_key=V3_KEY, base_url=f"http://127.0.0.1:{_free_port()}/3", retries=0, timeout=2)
    with TmdbClient(settings) as client:
        with pytest.raises(TmdbError) as excinfo:
            client.get("/movie/550")
    message = str(excinfo.value)
    assert "/3/movie/550" in message  # requests puts the URL, query included, into this message
    assert V3_KEY not in message
    assert client.stats.errors == 1


def test_http_error_message_does_not_echo_the_key(tmdb):
    tmdb.script = [respond(502, f"<html>Bad gateway: GET /3/movie/550?api_key={V3_KEY}</html>".encode())]
    with TmdbClient(tmdb.settings(retries=0)) as client:
        with pytest.raises(TmdbError) as excinfo:
            client.get("/movie/550")
    assert "502" in str(excinfo.value)
    assert V3_KEY not in str(excinfo.value)


# --- Rate limit and calls ---------------------------------------------------------------------------


def test_movie_details_sends_every_part_once_and_no_language(tmdb):
    tmdb.script = [respond(200, fixture_bytes("tmdb_movie_550_append_to_response_trimmed.json"))]
    with TmdbClient(tmdb.settings(language="de-DE")) as client:
        body = client.movie_details(550, APPEND_FOR["metadata"] + APPEND_FOR["images"])
        client.movie_details(550, APPEND_FOR["metadata"])
        client.movie_details(550)
    assert body["credits"]["crew"][0]["name"] == "David Fincher"
    both, metadata_only, bare = tmdb.requests
    assert both["path"] == "/3/movie/550"
    # One request for both enrichers, the same whatever the enrichers, the language chain or the image order:
    # every translation and the images of every language come with it, so one cached body serves any run.
    parts = "credits,external_ids,images,keywords,release_dates,translations,videos"
    assert both["query"]["append_to_response"] == metadata_only["query"]["append_to_response"] == [parts]
    for request in (both, metadata_only, bare):
        assert "include_image_language" not in request["query"] and "language" not in request["query"]
    assert set(bare["query"]) == {"api_key"}
    assert client.stats.by_endpoint == {"movie": 3}
    assert client.stats.requests == 3


def test_search_and_find_send_their_parameters(tmdb):
    tmdb.script = [respond(200, {"results": [{"id": 272}]}), respond(200, {"results": []}),
                   respond(200, {"movie_results": [{"id": 550}]})]
    with TmdbClient(tmdb.settings()) as client:
        assert client.search_movie("Batman Begins", 2005) == [{"id": 272}]
        assert client.search_movie("Batman Begins") == []
        assert client.find_by_imdb("tt0137523") == [{"id": 550}]
    search_year, search_any, find = tmdb.requests
    assert search_year["query"]["query"] == ["Batman Begins"] and search_year["query"]["year"] == ["2005"]
    assert "year" not in search_any["query"]
    assert find["path"] == "/3/find/tt0137523" and find["query"]["external_source"] == ["imdb_id"]
    assert client.stats.by_endpoint == {"search/movie": 2, "find": 1}


# --- Observers --------------------------------------------------------------------------------------


def test_each_attempt_is_counted_once_in_the_stats_and_once_in_the_live_progress(tmdb):
    tmdb.script = [respond(503, {}), respond(429, {}, {"Retry-After": "0"}), respond(200, {"id": 550})]
    before = progress.TRACKER.counts()
    with TmdbClient(tmdb.settings(retries=3, backoff=0)) as client:
        assert client.get("/movie/550") == {"id": 550}
    after = progress.TRACKER.counts()
    moved = {name: after[name] - before[name] for name in ("requests", "retries", "throttled")}
    assert len(tmdb.requests) == 3
    assert moved == {"requests": 3, "retries": 2, "throttled": 1}
    assert (client.stats.requests, client.stats.retries, client.stats.throttled) == (3, 2, 1)


class _Recorder(Observer):
    def __init__(self):
        self.events = []

    def on_sent(self, endpoint):
        self.events.append(("sent", endpoint))

    def on_retry(self):
        self.events.append(("retry",))

    def on_failure(self):
        self.events.append(("failure",))


def test_observers_given_replace_the_live_progress_and_the_stats_still_count(tmdb):
    tmdb.script = [respond(502, {})]
    recorder = _Recorder()
    before = progress.TRACKER.counts()["requests"]
    with TmdbClient(tmdb.settings(retries=1, backoff=0), observers=[recorder]) as client:
        with pytest.raises(TmdbError):
            client.get("/movie/550")
    assert recorder.events == [("sent", "movie"), ("retry",), ("sent", "movie"), ("failure",)]
    assert client.stats.requests == 2 and client.stats.errors == 1
    assert progress.TRACKER.counts()["requests"] == before
