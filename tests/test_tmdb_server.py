"""Tests for the local TMDB-compatible server in movie_enrichment.testing.tmdb_server."""

import json
import signal
import subprocess
import sys
import time

import pytest
import requests

from movie_enrichment.testing import tmdb_parts
from movie_enrichment.testing.tmdb_server import DEFAULT_BEARER, Faults, TmdbServer, normalise

KEY = "test-api-key"


def _movie(movie_id, imdb_id, title, date, popularity, original_title=None, language="en"):
    return {
        "id": movie_id, "imdb_id": imdb_id, "title": title, "original_title": original_title or title,
        "original_language": language, "release_date": date, "overview": f"Overview of {title}.",
        "tagline": "", "runtime": 100, "genres": [{"id": 18, "name": "Drama"}, {"id": 53, "name": "Thriller"}],
        "popularity": popularity, "vote_average": 7.5, "vote_count": 1000,
        "poster_path": f"/poster{movie_id}.jpg", "backdrop_path": f"/backdrop{movie_id}.jpg",
        "production_countries": [{"iso_3166_1": "US", "name": "United States of America"}],
        "spoken_languages": [{"english_name": "English", "iso_639_1": "en", "name": "English"}],
        "adult": False, "video": False,
        "credits": {"cast": [{"id": 10 * movie_id, "name": "Lead Actor", "character": "Hero", "order": 0}],
                    "crew": [{"id": 10 * movie_id + 1, "name": "A Director", "job": "Director",
                              "department": "Directing"}]},
        "images": {"posters": [{"file_path": f"/poster{movie_id}.jpg", "width": 500, "height": 750}],
                   "backdrops": [{"file_path": f"/backdrop{movie_id}.jpg", "width": 1280, "height": 720}],
                   "logos": []},
        "external_ids": {"imdb_id": imdb_id, "wikidata_id": None, "facebook_id": None,
                         "instagram_id": None, "twitter_id": None},
    }


CATALOG = [
    _movie(539, "tt0054215", "Psycho", "1960-06-22", 40.5),
    _movie(11252, "tt0155975", "Psycho", "1998-12-04", 12.3),
    _movie(194, "tt0211915", "Amélie", "2001-04-25", 55.0,
           original_title="Le Fabuleux Destin d'Amélie Poulain", language="fr"),
    _movie(530915, "tt8579674", "1917", "2019-12-25", 60.1),
    _movie(550, "tt0137523", "Fight Club", "1999-10-15", 49.1),
    _movie(272, "tt0372784", "Batman Begins", "2005-06-10", 65.8),
    _movie(9806, "tt0317705", "The Incredibles", "2004-10-27", 30.0),
    _movie(101, "tt0000101", "Fast & Furious", "2009-04-02", 20.0),
]


@pytest.fixture
def server():
    with TmdbServer(CATALOG) as srv:
        yield srv


@pytest.fixture
def session():
    with requests.Session() as s:
        yield s


def get(session, server, path, timeout=5, **params):
    params.setdefault("api_key", KEY)
    return session.get(server.url + path, params=params, timeout=timeout)


def search_titles(session, server, **params):
    r = get(session, server, "/search/movie", **params)
    assert r.status_code == 200
    return r.json()


def test_url_and_configuration(server, session):
    assert server.url.startswith("http://127.0.0.1:") and server.url.endswith("/3")
    r = get(session, server, "/configuration")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json;charset=utf-8"
    assert int(r.headers["Content-Length"]) == len(r.content)
    body = r.json()
    # Its images are its own (`/t/p/...`), so that pages showing posters work with it alone.
    root = server.url[:-len("/3")] + "/t/p/"
    assert body["images"]["base_url"] == body["images"]["secure_base_url"] == root
    for key in ("backdrop_sizes", "logo_sizes", "poster_sizes", "profile_sizes", "still_sizes"):
        assert "original" in body["images"][key]
    assert "w500" in body["images"]["poster_sizes"]
    assert "title" in body["change_keys"]


def test_png_posters_are_small_pngs_of_the_size_asked_the_same_for_the_same_path(server, session):
    import struct
    import zlib

    root = get(session, server, "/configuration").json()["images"]["secure_base_url"]
    server.reset_counts()
    first = session.get(root + "w185/ncZF6NSiUcDHKoxUBKtvwmc0Tue.png", timeout=5)
    assert first.status_code == 200 and first.headers["Content-Type"] == "image/png"
    png = first.content
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and png[12:16] == b"IHDR"
    assert struct.unpack(">II", png[16:24]) == (185, 278)
    assert struct.unpack(">I", png[29:33])[0] == zlib.crc32(png[12:29])  # a valid header chunk
    assert session.get(root + "w185/ncZF6NSiUcDHKoxUBKtvwmc0Tue.png", timeout=5).content == png
    other = session.get(root + "w185/aJv57sFMXCDkvcSNdxTaGru3nK1.png", timeout=5).content
    assert other != png and struct.unpack(">II", other[16:24]) == (185, 278)
    assert struct.unpack(">II", session.get(root + "h632/x.png", timeout=5).content[16:24]) == (421, 632)
    assert struct.unpack(">II", session.get(root + "original/x.png", timeout=5).content[16:24]) == (500, 750)
    for bad in ("w185/../configuration", "w185/x.exe", "huge/x.jpg", "w185/"):
        assert session.get(root + bad, timeout=5).status_code == 404, bad
    assert server.counts()["total"] == 0  # the image host is not the API: no request counted


def test_normalise():
    assert normalise("Le Fabuleux Destin d'Amélie Poulain") == "le fabuleux destin d amelie poulain"
    assert normalise("Fast & Furious") == "fast & furious"
    assert normalise("Tom·Jerry!") == "tom jerry"


def test_search_by_title_ordered_by_popularity(server, session):
    body = search_titles(session, server, query="psycho")
    assert body["page"] == 1 and body["total_pages"] == 1 and body["total_results"] == 2
    assert [m["id"] for m in body["results"]] == [539, 11252]
    item = body["results"][0]
    assert set(item) == {"adult", "backdrop_path", "genre_ids", "id", "original_language", "original_title",
                         "overview", "popularity", "poster_path", "release_date", "title", "video",
                         "vote_average", "vote_count"}
    assert item["genre_ids"] == [18, 53] and item["release_date"] == "1960-06-22"


def test_search_original_title_accents_prefix_and_ampersand(server, session):
    assert [m["id"] for m in search_titles(session, server, query="Le Fabuleux Destin")["results"]] == [194]
    assert [m["id"] for m in search_titles(session, server, query="amelie")["results"]] == [194]
    assert [m["id"] for m in search_titles(session, server, query="AMÉLIE")["results"]] == [194]
    assert [m["id"] for m in search_titles(session, server, query="fight cl")["results"]] == [550]
    assert [m["id"] for m in search_titles(session, server, query="1917")["results"]] == [530915]
    assert [m["id"] for m in search_titles(session, server, query="fast & furious")["results"]] == [101]
    assert search_titles(session, server, query="fight zebra")["results"] == []


def test_search_year_filters(server, session):
    assert [m["id"] for m in search_titles(session, server, query="Psycho", year=1998)["results"]] == [11252]
    assert [m["id"] for m in search_titles(session, server, query="Psycho",
                                           primary_release_year=1960)["results"]] == [539]
    assert search_titles(session, server, query="Psycho", year=1970)["total_results"] == 0


def test_search_empty_query(server, session):
    empty = {"page": 1, "results": [], "total_pages": 1, "total_results": 0}
    assert search_titles(session, server, query="") == empty
    assert search_titles(session, server) == empty


def test_search_pagination_on_large_catalog():
    catalog = [_movie(i, f"tt{i:07d}", f"Star Saga {i}", "2000-01-01", float(i)) for i in range(1, 46)]
    with TmdbServer(catalog) as srv, requests.Session() as s:
        page1 = search_titles(s, srv, query="star saga")
        page3 = search_titles(s, srv, query="star saga", page=3)
        assert (page1["total_results"], page1["total_pages"], len(page1["results"])) == (45, 3, 20)
        assert page1["results"][0]["id"] == 45
        assert [m["id"] for m in page3["results"]] == [5, 4, 3, 2, 1]
        assert get(s, srv, "/search/movie", query="star", page=0).status_code == 400


def test_details_without_and_with_append(server, session):
    body = get(session, server, "/movie/194").json()
    assert body["id"] == 194 and body["original_title"] == "Le Fabuleux Destin d'Amélie Poulain"
    assert body["imdb_id"] == "tt0211915" and body["runtime"] == 100
    assert not {"credits", "images", "external_ids"} & set(body)
    body = get(session, server, "/movie/194", append_to_response="credits,images,external_ids,videos").json()
    assert body["credits"]["crew"][0]["job"] == "Director"
    assert body["images"]["posters"][0]["file_path"] == "/poster194.jpg"
    assert body["external_ids"]["imdb_id"] == "tt0211915"
    assert body["videos"] == tmdb_parts.videos(server.catalog.movies[server.catalog.by_id[194]])  # a made part
    body = get(session, server, "/movie/194", append_to_response="reviews").json()
    assert "reviews" not in body  # a part the server does not make


def test_sub_resources(server, session):
    images = get(session, server, "/movie/550/images").json()
    assert images["id"] == 550 and images["backdrops"][0]["file_path"] == "/backdrop550.jpg"
    credits = get(session, server, "/movie/550/credits").json()
    assert credits["id"] == 550 and credits["cast"][0]["character"] == "Hero"
    ids = get(session, server, "/movie/550/external_ids").json()
    assert ids["id"] == 550 and ids["imdb_id"] == "tt0137523"


def test_find_by_imdb_id(server, session):
    body = get(session, server, "/find/tt0137523", external_source="imdb_id").json()
    assert [m["id"] for m in body["movie_results"]] == [550]
    assert body["movie_results"][0]["title"] == "Fight Club"
    for key in ("person_results", "tv_results", "tv_episode_results", "tv_season_results"):
        assert body[key] == []
    assert get(session, server, "/find/tt9999999", external_source="imdb_id").json()["movie_results"] == []


def test_auth(server, session):
    expected = {"status_code": 7, "status_message": "Invalid API key: You must be granted a valid key.",
                "success": False}
    r = session.get(server.url + "/movie/550", timeout=5)
    assert r.status_code == 401 and r.json() == expected
    assert get(session, server, "/movie/550", api_key="wrong").status_code == 401
    wrong = session.get(server.url + "/movie/550", headers={"Authorization": "Bearer nope"}, timeout=5)
    assert wrong.status_code == 401
    right = session.get(server.url + "/movie/550", headers={"Authorization": f"Bearer {DEFAULT_BEARER}"},
                        timeout=5)
    assert right.status_code == 200 and right.json()["id"] == 550
    server.api_key = "rotated"
    assert get(session, server, "/movie/550").status_code == 401
    assert get(session, server, "/movie/550", api_key="rotated").status_code == 200


def test_404(server, session):
    expected = {"status_code": 34, "status_message": "The resource you requested could not be found.",
                "success": False}
    for path in ("/movie/424242", "/movie/abc", "/nope", "/movie/550/reviews"):
        r = get(session, server, path)
        assert r.status_code == 404 and r.json() == expected


def test_counts_exact(server, session):
    get(session, server, "/configuration")
    get(session, server, "/search/movie", query="psycho")
    get(session, server, "/movie/550")
    get(session, server, "/movie/1")
    get(session, server, "/movie/550/images")
    get(session, server, "/movie/550/credits")
    get(session, server, "/movie/550/external_ids")
    get(session, server, "/movie/550/translations")
    get(session, server, "/find/tt0137523", external_source="imdb_id")
    get(session, server, "/unknown")
    session.get(server.url + "/configuration", timeout=5)  # no key -> 401
    counts = server.counts()
    assert counts["total"] == 11
    assert counts["by_endpoint"] == {"configuration": 2, "search/movie": 1, "movie": 2, "movie/images": 1,
                                     "movie/credits": 1, "movie/external_ids": 1, "movie/translations": 1,
                                     "movie/release_dates": 0, "movie/videos": 0, "movie/keywords": 0, "find": 1,
                                     "movie/changes": 0, "other": 1}
    assert counts["by_status"] == {"200": 8, "404": 2, "401": 1}
    # When the first request and the first lookup came, and the last answer left (the machine's monotonic clock).
    assert counts["first_at"] < counts["first_lookup_at"] <= counts["last_at"] <= time.monotonic()
    # The HTTP stats endpoints are not counted themselves.
    stats_url = server.url.rsplit("/3", 1)[0]
    assert session.get(stats_url + "/__stats", timeout=5).json() == counts
    assert session.post(stats_url + "/__reset", data=b"{}", timeout=5).status_code == 200
    assert server.counts()["total"] == 0
    server.reset_counts()
    assert server.counts() == {"total": 0, "by_endpoint": dict.fromkeys(counts["by_endpoint"], 0),
                               "by_status": {}, "faults": {}, "first_at": None, "first_lookup_at": None,
                               "last_at": None}


def test_rate_limit(server, session):
    server.rate_limit = 5
    statuses = [get(session, server, "/movie/550") for _ in range(10)]
    limited = [r for r in statuses if r.status_code == 429]
    assert len(limited) >= 4 and [r.status_code for r in statuses[:5]] == [200] * 5
    assert limited[0].headers["Retry-After"] == "1"
    assert limited[0].json()["status_code"] == 25
    assert server.counts()["by_status"]["429"] == len(limited)
    server.rate_limit = None
    assert get(session, server, "/movie/550").status_code == 200


def test_fault_5xx(server, session):
    server.faults = Faults(error_5xx=1.0)
    r = get(session, server, "/movie/550")
    assert r.status_code in (500, 502, 503)
    assert r.json() == {"status_code": 11, "status_message": "Internal error: Something went wrong, contact TMDb.",
                        "success": False}


def test_fault_burst_429(server, session):
    server.faults = Faults(burst_429=1.0, burst_length=3)
    r = get(session, server, "/movie/550")
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    server.faults = Faults()  # the burst continues for the next 2 requests
    assert [get(session, server, "/movie/550").status_code for _ in range(3)] == [429, 429, 200]


def test_fault_invalid_key(server, session):
    server.faults = Faults(invalid_key=True)
    assert get(session, server, "/movie/550").status_code == 401


def test_fault_truncated(server, session):
    server.faults = Faults(truncated=1.0)
    with pytest.raises((requests.RequestException, ValueError)):
        get(session, server, "/movie/550").json()
    server.faults = Faults()
    assert get(session, server, "/movie/550").status_code == 200


def test_fault_reset(server, session):
    server.faults = Faults(reset=1.0)
    with pytest.raises(requests.ConnectionError):
        get(session, server, "/movie/550")
    assert server.counts()["by_status"] == {"reset": 1}
    server.faults = Faults()
    assert get(session, server, "/movie/550").status_code == 200


def test_fault_stall(server, session):
    server.faults = Faults(stall=1.0, stall_seconds=1.0)
    start = time.perf_counter()
    with pytest.raises(requests.Timeout):
        get(session, server, "/movie/550", timeout=0.3)
    assert time.perf_counter() - start < 0.9


def test_latency(server, session):
    get(session, server, "/movie/550")  # warm up the connection
    server.latency_ms = 50
    start = time.perf_counter()
    assert get(session, server, "/movie/550").status_code == 200
    assert time.perf_counter() - start >= 0.05


@pytest.mark.e2e
def test_cli_prints_url_and_exits_on_sigterm(tmp_path):
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(CATALOG), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "movie_enrichment.testing.tmdb_server", "--port", "0",
                             "--catalog", str(catalog), "--api-key", "cli-key"],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("TMDB test server listening on http://127.0.0.1:") and line.endswith("/3")
        url = line.rsplit(" ", 1)[1]
        r = requests.get(url + "/movie/194", params={"api_key": "cli-key"}, timeout=5)
        assert r.status_code == 200 and r.json()["title"] == "Amélie"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# --- /movie/changes and realistic bodies -------------------------------------------------------------


def test_changes_lists_the_edited_films_by_window_and_page(server, session):
    import datetime
    now = datetime.datetime.now(datetime.timezone.utc)
    server.change_movie(550, overview="Edited.")
    server.change_movie(272, at=now - datetime.timedelta(days=20))
    assert get(session, server, "/movie/550").json()["overview"] == "Edited."
    today = now.date()
    body = get(session, server, "/movie/changes").json()  # TMDB's default: the last day
    assert body == {"results": [{"id": 550, "adult": False}], "page": 1, "total_pages": 1, "total_results": 1}
    old = get(session, server, "/movie/changes", start_date=(today - datetime.timedelta(days=27)).isoformat(),
              end_date=(today - datetime.timedelta(days=13)).isoformat()).json()
    assert [r["id"] for r in old["results"]] == [272]
    too_long = get(session, server, "/movie/changes", start_date=(today - datetime.timedelta(days=15)).isoformat(),
                   end_date=today.isoformat())
    assert too_long.status_code == 422
    assert too_long.json() == {"status_code": 20, "success": False,
                               "status_message": "Invalid date range: Should be a range no longer than 14 days."}
    assert server.counts()["by_endpoint"]["movie/changes"] == 3

    server.changes_noise_per_day = 150  # films that are not in the catalog, as in TMDB's own feed
    first = get(session, server, "/movie/changes", start_date=today.isoformat()).json()
    assert first["total_results"] == 151 and first["total_pages"] == 2 and len(first["results"]) == 100
    second = get(session, server, "/movie/changes", start_date=today.isoformat(), page=2).json()
    ids = [r["id"] for r in first["results"] + second["results"]]
    assert len(set(ids)) == 151 and 550 in ids


def test_realistic_bodies_are_large_and_enrich_the_same(session):
    from movie_enrichment.transforms import extract
    append = "credits,images,external_ids"
    with TmdbServer(CATALOG) as plain, TmdbServer(CATALOG, realistic_bodies=True) as real:
        small = get(session, plain, "/movie/550", append_to_response=append)
        large = get(session, real, "/movie/550", append_to_response=append)
        sizes = [len(get(session, real, f"/movie/{m['id']}", append_to_response=append).content) for m in CATALOG]
    assert len(small.content) < 3_000
    assert all(50_000 <= size <= 150_000 for size in sizes), sizes
    assert extract.trim_details(large.json()) == extract.trim_details(small.json())
