"""The TMDB client's response cache and refreshes, against the bundled local server and a real SQLite file."""

import datetime
import sqlite3
import zlib

import pytest

from movie_enrichment.io import response_cache
from movie_enrichment.io.tmdb import APPEND_FOR, TmdbClient, TmdbSettings
from movie_enrichment.testing.tmdb_server import TmdbServer
from movie_enrichment.transforms import extract

KEY = "test-api-key"
APPEND = APPEND_FOR["metadata"] + APPEND_FOR["images"]


@pytest.fixture
def server():
    with TmdbServer(api_key=KEY, realistic_bodies=True) as srv:
        yield srv


@pytest.fixture(autouse=True)
def fresh_caches():
    response_cache._CACHES.clear()  # one cache object per file and process: each test opens its own
    yield
    response_cache._CACHES.clear()


def client(server, cache, **kw) -> TmdbClient:
    settings = TmdbSettings(api_key=KEY, base_url=server.url, max_requests_per_second=0, cache_path=str(cache), **kw)
    return TmdbClient(settings)


def ids(server, count):
    return [m["id"] for m in server.catalog.movies[:count]]


def test_cached_answers_cost_no_request_and_keep_only_the_trimmed_body(server, tmp_path):
    cache = tmp_path / "c" / "cache.sqlite"
    with client(server, cache) as tmdb:
        first = [tmdb.movie_details(i, APPEND, shrink=extract.trim_details) for i in ids(server, 20)]
        assert tmdb.movie_details(1, APPEND, shrink=extract.trim_details) is None  # a 404 is cached too
    assert server.counts()["total"] == 21
    server.reset_counts()
    with client(server, cache) as tmdb:
        again = [tmdb.movie_details(i, APPEND, shrink=extract.trim_details) for i in ids(server, 20)]
        assert tmdb.movie_details(1, APPEND, shrink=extract.trim_details) is None
        assert tmdb.stats.cache_hits == 21 and tmdb.stats.requests == 0
    assert again == first and server.counts()["total"] == 0
    # 20 real-sized bodies (50-150 KB each) are stored trimmed and compressed: under 2 KB apiece, with every
    # translation, certification, trailer and image language that a run with other options may pick.
    with sqlite3.connect(cache) as db:
        stored = db.execute("SELECT SUM(LENGTH(body)) FROM tmdb_responses").fetchone()[0]
    assert stored < 40 * 1024
    assert KEY.encode() not in cache.read_bytes()


def test_a_refresh_asks_again_and_updates_the_cache(server, tmp_path):
    cache = tmp_path / "cache.sqlite"
    movie = ids(server, 1)[0]
    with client(server, cache) as tmdb:
        assert tmdb.movie_details(movie, APPEND)["overview"] != "Edited."
    server.change_movie(movie, overview="Edited.")
    with client(server, cache) as tmdb:
        assert tmdb.movie_details(movie, APPEND)["overview"] != "Edited.", "the cache answers within its age"
    server.reset_counts()
    with client(server, cache, refresh=True) as tmdb:
        assert tmdb.movie_details(movie, APPEND)["overview"] == "Edited."
        assert tmdb.stats.requests == 1 and tmdb.stats.cache_hits == 0
    with client(server, cache) as tmdb:
        assert tmdb.movie_details(movie, APPEND)["overview"] == "Edited.", "the refresh replaced the entry"
        assert tmdb.stats.requests == 0


def test_prune_drops_expired_entries_then_the_oldest_beyond_the_cap(server, tmp_path):
    cache = tmp_path / "cache.sqlite"
    with client(server, cache) as tmdb:
        for i in ids(server, 60):
            tmdb.movie_details(i, APPEND)  # untrimmed: 50-150 KB each, about 25 KB compressed
    store = response_cache.shared(str(cache), 7 * 86400.0)
    assert store.prune() == {"expired": 0, "evicted": 0}
    before = store.figures()
    assert before["entries"] == 60
    with sqlite3.connect(cache) as db:
        db.execute("UPDATE tmdb_responses SET stored = stored - 8 * 86400 WHERE key IN "
                   "(SELECT key FROM tmdb_responses ORDER BY key LIMIT 10)")
    assert store.prune()["expired"] == 10
    size = store.size_on_disk()
    store.max_bytes = before["body_bytes"] // 2
    assert store.prune()["evicted"] > 0
    after = store.figures()
    assert after["body_bytes"] <= store.max_bytes * 0.8
    assert store.size_on_disk() < size, "evicted pages go back to the file system"
    with client(server, cache) as tmdb:  # what is left still answers
        hits = sum(tmdb.movie_details(i, APPEND) is not None for i in ids(server, 60))
        assert hits == 60 and 0 < tmdb.stats.cache_hits == after["entries"]


def test_changed_movie_ids_walks_windows_of_14_days_and_every_page(server, tmp_path):
    now = datetime.datetime.now(datetime.timezone.utc)
    edited = ids(server, 5)
    for days, movie in zip((1, 10, 20, 33, 60), edited):
        server.change_movie(movie, at=now - datetime.timedelta(days=days))
    server.changes_noise_per_day = 120
    with client(server, tmp_path / "cache.sqlite") as tmdb:
        found = tmdb.changed_movie_ids(now - datetime.timedelta(days=40))
    assert set(edited[:4]) <= found and edited[4] not in found
    assert len(found) == 4 + 120 * 41
    counts = server.counts()
    # 41 days: windows of 14, 14 and 13 days, each of 14*120/100 -> 17 pages (13 days: 16), none refused.
    assert counts["by_endpoint"]["movie/changes"] == 17 + 17 + 16 and counts["by_status"] == {"200": 50}


def test_a_cache_opened_on_an_existing_file_answers_its_entries_and_this_process_s_new_ones(tmp_path):
    path = str(tmp_path / "cache.sqlite")
    earlier = response_cache.ResponseCache(path, 3600.0)
    earlier.put("a", 200, b'{"x": 1}')
    earlier.put("gone", 404, None)
    earlier.flush()
    cache = response_cache.ResponseCache(path, 3600.0)  # as the next run opens it
    for loaded in (False, True):  # while its keys are listed (a background thread), then from the list: the same
        if loaded:
            assert cache._keys_listed.wait(10)
        assert cache.get("a") == (200, b'{"x": 1}')
        assert cache.get("gone") == (404, None)
        assert cache.get("b") is None
    cache.put("b", 200, b"{}")
    assert cache.get("b") == (200, b"{}"), "queued"
    cache.flush()
    assert cache.get("b") == (200, b"{}"), "committed after the keys were listed"
    assert cache.figures()["entries"] == 3


def test_entries_written_with_zlib_by_earlier_versions_are_read_and_damaged_ones_are_misses(tmp_path):
    path = str(tmp_path / "cache.sqlite")
    cache = response_cache.ResponseCache(path, 3600.0)
    cache.put("new", 200, b'{"n": 1}')
    cache.flush()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT body FROM tmdb_responses WHERE key = 'new'").fetchone()[0][:4] == \
            b"\x28\xb5\x2f\xfd", "stored as a Zstandard frame"
        db.execute("INSERT INTO tmdb_responses VALUES ('old', strftime('%s', 'now'), 200, ?)",
                   (zlib.compress(b'{"o": 2}'),))
        db.execute("INSERT INTO tmdb_responses VALUES ('bad', strftime('%s', 'now'), 200, ?)",
                   (b"\x28\xb5\x2f\xfd" + b"not zstd",))
    reopened = response_cache.ResponseCache(path, 3600.0)
    assert reopened.get("new") == (200, b'{"n": 1}')
    assert reopened.get("old") == (200, b'{"o": 2}')
    assert reopened.get("bad") is None


def test_a_process_that_stores_more_keys_than_it_remembers_still_finds_every_entry(tmp_path, monkeypatch):
    monkeypatch.setattr(response_cache, "_MAX_ADDED", 3)
    cache = response_cache.ResponseCache(str(tmp_path / "cache.sqlite"), 3600.0)
    assert cache._keys_listed.wait(10)
    for n in range(10):
        cache.put(f"k{n}", 200, b"{}")
        if n % 3 == 0:
            cache.flush()
    cache.flush()
    assert [cache.get(f"k{n}") for n in range(10)] == [(200, b"{}")] * 10
    assert cache.get("k10") is None
