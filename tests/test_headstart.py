"""The head start: the first lookups leave before Beam's graph is built, each movie is still looked up once, the
file is read once, and the output is the same as without it."""

import dataclasses
import time

import orjson
import pytest
from conftest import API_KEY

from movie_enrichment.io import database
from movie_enrichment.io.tmdb import TmdbClient, TmdbSettings
from movie_enrichment.model import LookupRequest
from movie_enrichment.pipelines import cli, launch
from movie_enrichment.testing.tmdb_server import TmdbServer
from movie_enrichment.transforms import fields, headstart
from movie_enrichment.transforms.enrich import MovieLookup
from movie_enrichment.transforms.selection import Selector


def _args(server, db, *extra):
    return ["--input", str(db), "--tmdb_base_url", server.url, "--progress", "off", *extra]


def _without_times(db: dict) -> dict:
    """The database with the run-dependent `updated_at` of each outcome left out."""
    return {k: {**r, "enrichment": {e: {f: v for f, v in o.items() if f != "updated_at"}
                                    for e, o in r["enrichment"].items()}} if isinstance(r, dict) and "enrichment" in r
            else r for k, r in db.items()}


@pytest.fixture
def slow_server():
    # TMDB's latency and a rate limit: the run is paced by requests, as a real one is.
    with TmdbServer(api_key=API_KEY, latency_ms=20, rate_limit=200) as server:
        yield server


def test_first_lookups_leave_before_the_graph_is_built_and_each_movie_costs_its_requests_once(
        slow_server, sample_db, tmp_path, monkeypatch):
    monkeypatch.setenv("TMDB_API_KEY", API_KEY)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the defaults: the HTTP cache on
    built = []
    real_build = launch.build_pipeline
    monkeypatch.setattr(launch, "build_pipeline", lambda p, config: (built.append(time.monotonic()),
                                                                     real_build(p, config))[1])
    assert cli.main(_args(slow_server, sample_db, "--max_requests_per_second", "150")) == 0

    counts = slow_server.counts()
    assert counts["first_lookup_at"] is not None and built
    assert counts["first_lookup_at"] < built[0], "a lookup left before the pipeline's graph was built"
    looked_up = 200 - sum(1 for r in orjson.loads(sample_db.read_bytes()).values()
                          if r["enrichment"]["metadata"]["status"] == "invalid")
    work = counts["total"] - counts["by_endpoint"]["configuration"]
    assert counts["by_status"].get("429", 0) == 0
    assert work <= 2 * looked_up, f"no movie looked up twice: {counts}"
    report = orjson.loads(sample_db.with_name("movies.json.report.json").read_bytes())
    assert report["requests"] == counts["total"], "the head start's requests are counted in the report"


def test_the_same_output_and_reads_with_and_without_the_head_start(tmdb_server, sample_db, tmp_path, monkeypatch):
    monkeypatch.setenv("TMDB_API_KEY", API_KEY)
    other = tmp_path / "other" / "movies.json"
    other.parent.mkdir()
    other.write_bytes(sample_db.read_bytes())
    reads = []
    real_read = database.read_bytes
    monkeypatch.setattr(database, "read_bytes", lambda path: (reads.append(path), real_read(path))[1])
    assert cli.main(_args(tmdb_server, sample_db, "--no_http_cache", "--max_requests_per_second", "0")) == 0
    with_head_start = reads.count(str(sample_db))
    monkeypatch.setattr(launch, "_head_start", lambda config, options: None)
    assert cli.main(_args(tmdb_server, other, "--no_http_cache", "--max_requests_per_second", "0")) == 0
    assert _without_times(orjson.loads(sample_db.read_bytes())) == _without_times(orjson.loads(other.read_bytes()))
    assert with_head_start == reads.count(str(other)), "the pipeline takes the head start's read of the file"


def _settings(server, **kw) -> TmdbSettings:
    return TmdbSettings(api_key=API_KEY, base_url=server.url, max_requests_per_second=0, retries=1, **kw)


def _started(server, requests: int) -> None:
    """Waits until the server has seen this many requests: the lookup is under way, no longer queued."""
    deadline = time.monotonic() + 30
    while server.counts()["total"] < requests:
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_a_lookup_is_taken_once_and_only_for_the_same_query(tmdb_server):
    settings = _settings(tmdb_server)
    lookup = MovieLookup(settings)
    record = {"title": "Psycho", "year": 1960, "director": "Alfred Hitchcock"}
    request = LookupRequest("Psycho", record, ("metadata", "images"))
    roles = fields.detect_roles([record])
    hit, query = lookup.prepare(request, roles)

    head = headstart.HeadStart(settings, lookup)
    head.begin([request], roles)
    try:
        _started(tmdb_server, 1)
        assert head.adopt(hit, dataclasses.replace(query, year=1961)) is None, "another query: looked up anew"
        head.begin([request], roles)
        _started(tmdb_server, 3)
        taken = head.adopt(hit, query)
        assert taken is not None and taken.status == "ok" and taken.details["id"] == taken.tmdb_id
        assert head.adopt(hit, query) is None, "taken once"
        assert head.stats()["requests"] == tmdb_server.counts()["total"] == 4, "two lookups of two requests"
        assert head.stats()["requests"] == 0, "counted once"
    finally:
        head.stop()


def test_lookups_not_started_are_left_to_the_pipeline(tmdb_server):
    settings = _settings(tmdb_server, max_concurrency=1)
    lookup = MovieLookup(settings)
    records = {f"Movie {i}": {"title": f"Movie {i}", "year": 2000} for i in range(5)}
    requests = [LookupRequest(k, r, ("metadata",)) for k, r in records.items()]
    roles = fields.detect_roles(records.values())
    with TmdbClient(settings) as client:  # what one such lookup costs
        lookup.fetch(client, *lookup.prepare(requests[0], roles))
    each = tmdb_server.counts()["total"]
    tmdb_server.reset_counts()
    tmdb_server.latency_ms = 200
    head = headstart.HeadStart(settings, lookup)
    head.begin(requests, roles)
    try:
        hit, query = lookup.prepare(requests[-1], roles)
        assert head.adopt(hit, query) is None, "still queued: dropped, the DoFn looks it up itself"
    finally:
        head.stop()
    assert tmdb_server.counts()["total"] <= 4 * each, "the dropped lookup made no request"


def test_a_database_with_little_to_do_is_not_scanned_twice_in_full(tmdb_server, tmp_path):
    done = {"metadata": {"status": "ok"}, "images": {"status": "ok"}}
    records = {f"Film {i}": {"title": f"Film {i}", "year": 2000, "enrichment": done} for i in range(60)}
    path = tmp_path / "movies.json"
    settings = _settings(tmdb_server)
    for new_at, begun in ((59, False), (3, True)):
        db = dict(records)
        db[f"Film {new_at}"] = {"title": "Psycho", "year": 1960}
        path.write_bytes(orjson.dumps(db))
        head = headstart.start(str(path), Selector(), settings, MovieLookup(settings), count=2)
        try:
            assert (head is not None) is begun, f"a movie to do at record {new_at} of 60, 2 x 5 records scanned"
        finally:
            headstart.stop()
            database.forget_parsed()
