"""Issue 24 against the bundled TMDB server: the language chain with per-field fallback, certifications by country,
the trailer, the collection, keywords, external ids and images by language, all from the one details request.

The films are picked by what `testing.tmdb_parts` made for them (a German translation without overview, a country
without certification, a film without trailer...), never by hard-coded ids.
"""

from __future__ import annotations

import orjson
import pytest
from conftest import run_cli

from movie_enrichment.io.tmdb import DETAILS_PARTS, TmdbClient, TmdbSettings
from movie_enrichment.testing import tmdb_parts
from movie_enrichment.testing.tmdb_server import TmdbServer
from movie_enrichment.transforms import extract

KEY = "test-api-key"
BASE = "https://image.tmdb.org/t/p/"


@pytest.fixture(scope="module")
def server():
    with TmdbServer(api_key=KEY) as running:
        yield running


def details(server: TmdbServer, movie: dict) -> dict:
    """The trimmed details body as a run gets it: one request with every part."""
    settings = TmdbSettings(api_key=KEY, base_url=server.url, max_requests_per_second=0, budget_dir=None)
    with TmdbClient(settings, observers=[]) as client:
        return client.movie_details(movie["id"], DETAILS_PARTS, shrink=extract.trim_details)


def first(server: TmdbServer, wanted) -> dict:
    """The first catalog film for which `wanted(movie)` holds."""
    found = next((m for m in server.catalog.movies if wanted(m)), None)
    assert found is not None, "the made-up parts have no such film"
    return found


def translation(movie: dict, language: str) -> dict | None:
    return next((t["data"] for t in tmdb_parts.translations(movie)["translations"] if t["iso_639_1"] == language),
                None)


def releases(movie: dict, country: str) -> list[dict]:
    return next((c["release_dates"] for c in tmdb_parts.release_dates(movie)["results"]
                 if c["iso_3166_1"] == country), [])


# --- the language chain ------------------------------------------------------------------------------------------

def test_a_partial_translation_falls_back_field_by_field(server):
    movie = first(server, lambda m: (translation(m, "de") or {}).get("title") and not translation(m, "de")["overview"]
                  and m.get("overview"))
    block = extract.metadata_block(details(server, movie), ("de-DE", "en-US"))
    assert block["title"] == translation(movie, "de")["title"] != movie["title"]
    assert block["overview"] == movie["overview"]  # German has none: the English one, not a blank
    assert block["original_title"] == movie["original_title"]
    assert block["text_languages"]["title"] == "de-DE" and block["text_languages"]["overview"] == "en-US"


def test_a_field_no_language_of_the_chain_has_is_null_and_says_so(server):
    movie = first(server, lambda m: not m.get("tagline") and translation(m, "fr") is not None
                  and not translation(m, "fr")["tagline"] and not translation(m, "fr")["title"])
    block = extract.metadata_block(details(server, movie), ("fr-FR",))
    assert block["tagline"] is None and block["text_languages"]["tagline"] is None
    # A title none has is TMDB's default one, as TMDB answers a language without a title; it says so too.
    assert block["title"] == movie["title"] and block["text_languages"]["title"] is None


def test_a_language_without_country_takes_any_translation_of_it(server):
    movie = first(server, lambda m: (translation(m, "pt") or {}).get("title"))
    block = extract.metadata_block(details(server, movie), ("pt",))
    assert block["title"] == translation(movie, "pt")["title"] and block["text_languages"]["title"] == "pt"
    assert extract.metadata_block(details(server, movie), ("pt-PT",))["text_languages"]["title"] is None


def test_without_a_chain_the_texts_are_the_bodys_and_no_sources(server):
    movie = server.catalog.movies[0]
    block = extract.metadata_block(details(server, movie))
    assert block["title"] == movie["title"] and "text_languages" not in block


# --- certifications ----------------------------------------------------------------------------------------------

def test_a_country_without_certification_falls_back_to_the_next(server):
    movie = first(server, lambda m: releases(m, "DE") and not any(r["certification"] for r in releases(m, "DE"))
                  and any(r["certification"] for r in releases(m, "US")))
    rating = next(r["certification"] for r in releases(movie, "US") if r["type"] == tmdb_parts.THEATRICAL)
    body = details(server, movie)
    assert extract.certification(body, ("DE", "US")) == {"country": "US", "rating": rating}
    assert extract.certification(body, ("DE",)) is None


def test_the_theatrical_rating_first_else_another_release(server):
    movie = first(server, lambda m: any(not r["certification"] and r["type"] == tmdb_parts.THEATRICAL
                                        for r in releases(m, "DE"))
                  and any(r["certification"] for r in releases(m, "DE")))
    disc = next(r["certification"] for r in releases(movie, "DE") if r["certification"])
    assert extract.certification(details(server, movie), ("DE", "US")) == {"country": "DE", "rating": disc}


# --- trailer, collection, keywords, external ids -----------------------------------------------------------------

def test_a_film_without_trailer_has_none(server):
    movie = first(server, lambda m: not any(v["type"] == "Trailer" for v in tmdb_parts.videos(m)["results"]))
    assert extract.metadata_block(details(server, movie), ("de-DE",))["trailer"] is None


def test_the_trailer_in_the_chains_language_first_then_english(server):
    def official(m, language):
        return [v for v in tmdb_parts.videos(m)["results"]
                if v["type"] == "Trailer" and v["official"] and v["iso_639_1"] == language]
    movie = first(server, lambda m: official(m, "de") and official(m, "en"))
    body = details(server, movie)
    german, english = official(movie, "de")[0], official(movie, "en")[0]
    site_url = extract.TRAILER_URLS[german["site"]].format(german["key"])
    assert extract.trailer(body, ("de-DE", "en-US")) == {"site": german["site"], "key": german["key"],
                                                         "url": site_url, "language": "de"}
    assert extract.trailer(body, ("fr-FR",))["key"] == english["key"]
    assert extract.trailer(body)["language"] == "en"


def test_collection_keywords_and_external_ids(server):
    movie = first(server, lambda m: tmdb_parts.collection(m) and tmdb_parts.keywords(m)["keywords"])
    block = extract.metadata_block(details(server, movie))
    made = tmdb_parts.collection(movie)
    assert block["collection"] == {"id": made["id"], "name": made["name"],
                                   "poster": BASE + "w500" + made["poster_path"],
                                   "backdrop": BASE + "w1280" + made["backdrop_path"]}
    assert block["keywords"] == [k["name"] for k in tmdb_parts.keywords(movie)["keywords"]]
    assert block["external_ids"]["imdb_id"] == movie["imdb_id"]
    assert set(block["external_ids"]) >= {"imdb_id", "wikidata_id", "facebook_id", "instagram_id", "twitter_id"}
    alone = first(server, lambda m: tmdb_parts.collection(m) is None)
    assert extract.metadata_block(details(server, alone))["collection"] is None


# --- images ------------------------------------------------------------------------------------------------------

def _languages(movie: dict, kind: str) -> list:
    return [i["iso_639_1"] for i in tmdb_parts.images(movie)[kind]]


def test_images_follow_the_order_of_languages(server):
    movie = first(server, lambda m: "de" in _languages(m, "posters") and "de" in _languages(m, "logos")
                  and None in _languages(m, "logos"))
    block = extract.images_block(details(server, movie), BASE, order=("de", None, "en"))
    made = tmdb_parts.images(movie)
    german = [i["file_path"] for i in made["posters"] if i["iso_639_1"] == "de"]
    assert block["poster"] == BASE + "w500" + german[0] and block["poster_language"] == "de"
    in_order = [i["file_path"] for lang in ("de", None, "en") for i in made["posters"] if i["iso_639_1"] == lang]
    assert block["posters"] == [BASE + "w500" + p for p in in_order][:10]
    assert block["logo_language"] == "de" and block["logos"][0] == block["logo"]
    # No French poster anywhere in the list when French is not asked for.
    french = {BASE + "w500" + i["file_path"] for i in made["posters"] if i["iso_639_1"] == "fr"}
    assert not french & set(block["posters"])


def test_textless_first_and_a_language_the_film_lacks(server):
    movie = first(server, lambda m: "ja" not in _languages(m, "backdrops") and None in _languages(m, "backdrops"))
    block = extract.images_block(details(server, movie), BASE, order=("ja", None, "en"))
    assert block["backdrop_language"] is None  # no Japanese backdrop: the first textless one
    assert block["backdrop"] == BASE + "w1280" + next(i["file_path"] for i in tmdb_parts.images(movie)["backdrops"]
                                                       if i["iso_639_1"] is None)


def test_the_default_order_is_the_chain_then_textless_then_english():
    assert extract.image_order(("de-DE",)) == ("de", None, "en")
    assert extract.image_order(("de-DE", "en-US")) == ("de", "en", None)  # English is a language of the chain
    assert extract.image_order(("fr-CA", "fr-FR")) == ("fr", None, "en")
    assert extract.image_order((), ("en", None)) == ("en", None)
    assert extract.image_order(()) is None  # TMDB's own choice


def test_the_server_filters_images_by_include_image_language(server):
    movie = first(server, lambda m: {"de", "en"} <= set(_languages(m, "posters"))
                  and None in _languages(m, "backdrops"))
    settings = TmdbSettings(api_key=KEY, base_url=server.url, max_requests_per_second=0, budget_dir=None)
    with TmdbClient(settings, observers=[]) as client:
        some = client.get(f"/movie/{movie['id']}/images", {"include_image_language": "de,null"}, cache=False)
        every = client.get(f"/movie/{movie['id']}/images", cache=False)
        english = client.get(f"/movie/{movie['id']}/images", {"language": "en-US"}, cache=False)
    assert {i["iso_639_1"] for i in some["posters"]} == {"de"}
    assert {i["iso_639_1"] for i in some["backdrops"]} <= {"de", None} and some["backdrops"]
    assert {"de", "en"} <= {i["iso_639_1"] for i in every["posters"]}
    assert {i["iso_639_1"] for i in english["posters"]} == {"en"}


# --- whole runs: one request per film, options re-derived from the cache ----------------------------------------

OPTIONS = ["--language", "de-DE,en-US", "--certification_countries", "DE,US", "--image_languages", "de,null,en"]


def _database(server: TmdbServer, path, count: int = 12):
    records = {f"film {m['id']}": {"title": m["title"], "tmdb_id": m["id"]} for m in server.catalog.movies[:count]}
    last = server.catalog.movies[count]  # one known by its IMDb id: its details are asked by that id first
    records[f"film {last['id']}"] = {"title": last["title"], "imdb_id": last["imdb_id"]}
    path.write_bytes(orjson.dumps(records))
    return path


def _run(server, tmp_path, database, cache, *options):
    done = run_cli(["--input", database, "--tmdb_base_url", server.url, "--http_cache", cache, "--progress", "off",
                    *options], tmp_path)
    assert done.returncode == 0, done.stderr
    return orjson.loads(database.read_bytes())


def test_the_options_cost_no_request_and_a_new_chain_is_derived_from_the_cache(server, tmp_path):
    plain_db = _database(server, tmp_path / "plain.json")
    server.reset_counts()
    _run(server, tmp_path, plain_db, tmp_path / "plain.sqlite")
    plain = server.counts()
    chained_db = _database(server, tmp_path / "chained.json")
    server.reset_counts()
    chained = _run(server, tmp_path, chained_db, tmp_path / "chained.sqlite", *OPTIONS)
    assert server.counts()["by_endpoint"] == plain["by_endpoint"]  # the same requests, one details per film
    assert plain["by_endpoint"]["movie"] == 13

    record = chained["film 539"] if "film 539" in chained else next(iter(chained.values()))
    assert {"text_languages", "certification", "trailer", "collection", "keywords", "external_ids"} <= set(
        record["tmdb"])
    assert {"poster_language", "backdrop_language", "logo", "logo_language", "logos"} <= set(record["images"])
    assert record["enrichment"]["metadata"]["options"] == {"language": "de-DE,en-US",
                                                           "certification_countries": "DE,US"}
    assert record["enrichment"]["images"]["options"] == {"image_languages": "de,null,en"}

    # Another chain: every film is derived again, from the cached bodies (no details request).
    server.reset_counts()
    again = _run(server, tmp_path, chained_db, tmp_path / "chained.sqlite", "--language", "fr-FR,en-US")
    assert server.counts()["by_endpoint"]["movie"] == 0
    for key, film in again.items():
        assert film["enrichment"]["metadata"]["options"] == {"language": "fr-FR,en-US"}
        assert film["enrichment"]["images"]["options"] == {"image_languages": "fr,en,null"}
        movie = server.catalog.movies[server.catalog.by_id[film["tmdb"]["id"]]]
        french = translation(movie, "fr")
        expected = "fr-FR" if french and french["title"] else "en-US" if movie["title"] else None
        assert film["tmdb"]["text_languages"]["title"] == expected, key

    # The same options again: nothing to derive, nothing asked.
    server.reset_counts()
    assert _run(server, tmp_path, chained_db, tmp_path / "chained.sqlite", "--language", "fr-FR,en-US") == again
    assert server.counts()["by_endpoint"]["movie"] == 0


@pytest.mark.parametrize("option,value", [("--language", "german"), ("--language", "de_DE"),
                                          ("--certification_countries", "DEU"), ("--image_languages", "de,none")])
def test_a_bad_code_is_a_one_line_usage_error(server, tmp_path, option, value):
    database = _database(server, tmp_path / "movies.json", 1)
    before = database.read_bytes()
    done = run_cli(["--input", database, "--tmdb_base_url", server.url, option, value], tmp_path)
    assert done.returncode == 2 and option in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert database.read_bytes() == before


def test_launch_takes_the_lists_as_lists(tmp_path):
    from movie_enrichment import api
    argv = api._argv("movies.json", {"language": ["de-DE", "en-US"], "certification_countries": ("DE", "US"),
                                     "image_languages": ["de", None, "en"]}, str(tmp_path))
    assert argv == ["--input", "movies.json", "--language", "de-DE,en-US", "--certification_countries", "DE,US",
                    "--image_languages", "de,null,en"]
