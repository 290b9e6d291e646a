"""Tests for movie_enrichment.transforms.extract: the `tmdb` and `images` blocks, image URL safety, trimming."""

from __future__ import annotations

import copy
import json
import pathlib
import random

import orjson
import pytest

from movie_enrichment.transforms.extract import (
    CAST_LIMIT,
    DEFAULT_IMAGE_BASE,
    image_base,
    image_url,
    images_block,
    metadata_block,
    trim_details,
)

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "tmdb"
BASE = "https://image.tmdb.org/t/p/"
CONTRACT_FIELDS = ["id", "imdb_id", "title", "original_title", "release_date", "year", "overview", "tagline",
                   "runtime", "genres", "original_language", "vote_average", "vote_count", "popularity",
                   "directors", "cast", "production_countries", "spoken_languages", "certification", "trailer",
                   "collection", "keywords", "external_ids"]


def _load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def fight_club() -> dict:
    return _load("tmdb_movie_550_append_to_response_trimmed.json")


@pytest.fixture(scope="module")
def riddick() -> dict:
    return _load("tmdb_movie_87421_riddick_append_all.json")


@pytest.fixture(scope="module")
def configuration() -> dict:
    return _load("tmdb_configuration.json")


# --- metadata_block ---------------------------------------------------------------------------------


def test_metadata_block_fight_club_has_every_contract_field(fight_club):
    block = metadata_block(fight_club)
    assert list(block) == CONTRACT_FIELDS
    assert block == {
        "id": 550,
        "imdb_id": "tt0137523",
        "title": "Fight Club",
        "original_title": "Fight Club",
        "release_date": "1999-10-12",
        "year": 1999,
        "overview": "A ticking-time-bomb insomniac.",
        "tagline": "How much can you know about yourself if you've never been in a fight?",
        "runtime": 139,
        "genres": ["Drama"],
        "original_language": "en",
        "vote_average": 7.8,
        "vote_count": 3439,
        "popularity": 0.5,
        "directors": ["David Fincher"],
        "cast": [{"name": "Edward Norton", "character": "The Narrator"}],
        "production_countries": [],
        "spoken_languages": [],
        "certification": {"country": "US", "rating": "R"},
        "trailer": {"site": "YouTube", "key": "SUXWAEX2jlg", "url": "https://www.youtube.com/watch?v=SUXWAEX2jlg",
                    "language": "en"},
        "collection": None,
        "keywords": ["dual identity", "based on novel or book"],
        "external_ids": {"imdb_id": "tt0137523", "wikidata_id": "Q190050", "facebook_id": "FightClub",
                         "instagram_id": None, "twitter_id": None},
    }


def test_metadata_block_riddick_parses_string_numbers_and_caps_cast(riddick):
    assert isinstance(riddick["popularity"], str)  # the fixture's point
    block = metadata_block(riddick)
    assert list(block) == CONTRACT_FIELDS
    assert block["popularity"] == pytest.approx(93.4917224393659)
    assert isinstance(block["popularity"], float)
    assert (block["id"], block["imdb_id"], block["title"], block["year"]) == (87421, "tt1411250", "Riddick", 2013)
    assert block["release_date"] == "2013-09-06"
    assert block["overview"] == riddick["overview"] and block["overview"].startswith("Betrayed by his own kind")
    assert block["tagline"] == "Survival Is His Revenge"
    assert (block["runtime"], block["vote_average"], block["vote_count"]) == (119, 6.2, 625)
    assert block["genres"] == ["Action", "Science Fiction", "Thriller"]
    assert block["directors"] == ["David Twohy"]
    assert block["production_countries"] == ["United States of America"]
    assert block["spoken_languages"] == ["English"]
    assert block["cast"] == [
        {"name": "Vin Diesel", "character": "Riddick"},
        {"name": "Karl Urban", "character": "Lord Vaako"},
        {"name": "Katee Sackhoff", "character": "Dahl"},
        {"name": "Jordi Mollà", "character": "Santana"},
        {"name": "Bokeem Woodbine", "character": "Moss"},
        {"name": "Nolan Gerard Funk", "character": "Luna"},
        {"name": "Noah Danby", "character": "Nunez"},
        {"name": "Neil Napier", "character": "Rubio"},
        {"name": "Keri Hilson", "character": None},  # an empty character becomes null
        {"name": "Dave Bautista", "character": "Diaz"},
    ]
    assert len(riddick["credits"]["cast"]) > CAST_LIMIT == len(block["cast"])


def test_metadata_block_cast_follows_billing_order_not_list_order(riddick):
    shuffled = copy.deepcopy(riddick)
    random.Random(7).shuffle(shuffled["credits"]["cast"])
    assert [c["name"] for c in shuffled["credits"]["cast"]] != [c["name"] for c in riddick["credits"]["cast"]]
    assert metadata_block(shuffled)["cast"] == metadata_block(riddick)["cast"]


def test_metadata_block_cast_without_order_goes_last_and_string_order_is_numeric():
    details = {"credits": {"cast": [
        {"name": "Unbilled", "character": "Extra"},
        {"name": "Tenth", "character": "J", "order": "10"},
        {"name": "Second", "character": "B", "order": "2"},
        {"name": "First", "character": "A", "order": 0},
        {"character": "nameless", "order": 1},
        "not a person",
    ], "crew": [{"name": "A. Director", "job": "Director"}, {"name": "A. Writer", "job": "Writer"},
                {"job": "Director"}, {"name": "Co Director", "job": "Director"}]}}
    block = metadata_block(details)
    assert [c["name"] for c in block["cast"]] == ["First", "Second", "Tenth", "Unbilled"]
    assert block["directors"] == ["A. Director", "Co Director"]


def test_metadata_block_defensive_parsing():
    block = metadata_block({
        "id": 1, "release_date": "", "overview": "", "tagline": "", "runtime": "96", "vote_average": "7.25",
        "vote_count": True, "popularity": "n/a", "genres": [{"name": "Drama"}, {"id": 3}, "Comedy", {"name": 5}],
        "spoken_languages": [{"english_name": "French", "name": "Français"}],
        "external_ids": {"imdb_id": "tt0211915"},
    })
    assert block["release_date"] is None and block["year"] is None
    assert block["overview"] is None and block["tagline"] is None
    assert block["runtime"] == 96 and isinstance(block["runtime"], int)
    assert block["vote_average"] == 7.25
    assert block["vote_count"] is None  # a boolean is not a number
    assert block["popularity"] is None
    assert block["genres"] == ["Drama"]
    assert block["spoken_languages"] == ["French"]
    assert block["imdb_id"] == "tt0211915"  # from external_ids when the top level has none
    assert block["cast"] == [] and block["directors"] == []


def test_metadata_block_of_an_empty_body_has_every_field():
    block = metadata_block({})
    assert list(block) == CONTRACT_FIELDS
    assert all(block[k] == [] for k in ("genres", "directors", "cast", "production_countries", "spoken_languages"))


# --- images ------------------------------------------------------------------------------------------


def test_image_base_from_configuration(configuration):
    assert image_base(configuration) == configuration["images"]["secure_base_url"] == BASE


@pytest.mark.parametrize("base", [
    "http://image.tmdb.org/t/p/",  # not https
    "https://image.tmdb.org/t/p/?size=",  # a query
    "https://user@evil.example/t/p/",  # credentials
    "javascript:alert(1)//",
    "https://",
    "//image.tmdb.org/t/p/",
    "https://image.tmdb.org/t/p/ w500",
    "",
    42,
    None,
    ["https://image.tmdb.org/t/p/"],
])
def test_image_base_rejects_odd_bases_and_falls_back_to_tmdb(base):
    assert image_base({"images": {"secure_base_url": base}}) == DEFAULT_IMAGE_BASE == BASE


@pytest.mark.parametrize("configuration", [None, {}, {"images": None}, {"images": {}}])
def test_image_base_without_configuration_is_tmdb(configuration):
    assert image_base(configuration) == BASE


def test_image_base_accepts_another_https_root_and_adds_the_slash():
    assert image_base({"images": {"secure_base_url": "https://cdn.example.org:8443/t/p"}}) == \
        "https://cdn.example.org:8443/t/p/"


def test_image_base_rejects_a_trailing_newline():
    assert image_base({"images": {"secure_base_url": "https://image.tmdb.org/t/p/\n"}}) == BASE


def test_image_url_builds_base_size_path():
    assert image_url(BASE, "w500", "/1NfhdnQAEqcBRCulEhOFSkRrrLv.jpg") == \
        "https://image.tmdb.org/t/p/w500/1NfhdnQAEqcBRCulEhOFSkRrrLv.jpg"
    assert image_url(BASE, "original", "/a_b-C.png") == "https://image.tmdb.org/t/p/original/a_b-C.png"
    assert image_url(BASE, "h632", "/x.webp") == "https://image.tmdb.org/t/p/h632/x.webp"


@pytest.mark.parametrize("file_path", [
    "http://evil/x.jpg", "https://image.tmdb.org/t/p/w500/x.jpg", "//evil/x.jpg", "../../etc/passwd",
    "/../../etc/passwd", "/a/b.jpg", "/x.jpg?y", "/x.jpg#y", "x.jpg", "/x.exe", "/x", "/.jpg", "/x y.jpg",
    "/x%2F.jpg", "", None, 42, ["/x.jpg"], {"file_path": "/x.jpg"},
])
def test_image_url_rejects_anything_but_a_plain_file_name(file_path):
    assert image_url(BASE, "w500", file_path) is None


@pytest.mark.parametrize("size", ["", "w", "500", "x500", "W500", "w500/..", "w12345", "original/", "../w500",
                                  "w500?"])
def test_image_url_rejects_bad_sizes(size):
    assert image_url(BASE, size, "/x.jpg") is None


@pytest.mark.parametrize("size, file_path", [("w500", "/x.jpg\n"), ("w500\n", "/x.jpg")])
def test_image_url_rejects_a_trailing_newline(size, file_path):
    assert image_url(BASE, size, file_path) is None


def test_images_block_fight_club_falls_back_to_the_images_part(fight_club, configuration):
    assert fight_club["poster_path"] is None
    block = images_block(fight_club, image_base(configuration))
    assert block == {
        "poster": BASE + "w500/fpemzjF623QVTe98pCVlwwtFC5N.jpg",
        "backdrop": BASE + "w1280/fCayJrkfRaCRCTh8GqN30f8oyQF.jpg",
        "poster_language": "en", "backdrop_language": None, "logo": None, "logo_language": None,
        "posters": [BASE + "w500/fpemzjF623QVTe98pCVlwwtFC5N.jpg"],
        "backdrops": [BASE + "w1280/fCayJrkfRaCRCTh8GqN30f8oyQF.jpg"],  # the primary is not repeated
        "logos": [],
    }


def test_images_block_riddick_primary_first_unique_and_limited(riddick, configuration):
    block = images_block(riddick, image_base(configuration), poster_size="w342", backdrop_size="original", limit=10)
    assert block["poster"] == BASE + "w342/1NfhdnQAEqcBRCulEhOFSkRrrLv.jpg"
    assert block["backdrop"] == BASE + "original/7DlIoyQ3ecGMklVWyKsneZmVnsi.jpg"
    for kind, size, primary in (("posters", "w342", "poster"), ("backdrops", "original", "backdrop")):
        urls = block[kind]
        assert len(urls) == 10 and len(set(urls)) == 10
        assert urls[0] == block[primary]
        expected = []
        # TMDB's own choice first, then its English and textless images (what include_image_language=en,null gave)
        for path in [riddick[f"{primary}_path"]] + [i["file_path"] for i in riddick["images"][kind]
                                                    if i.get("iso_639_1") in ("en", None)]:
            if BASE + size + path not in expected:
                expected.append(BASE + size + path)
        assert urls == expected[:10]


def test_images_block_drops_unsafe_paths():
    details = {"poster_path": "http://evil/x.jpg", "backdrop_path": "../../etc/passwd",
               "images": {"posters": [{"file_path": "/a/b.jpg"}, {"file_path": "/ok.jpg"}, "junk", {}],
                          "backdrops": [{"file_path": "/x.jpg?y"}]}}
    assert images_block(details, BASE) == {"poster": BASE + "w500/ok.jpg", "backdrop": None, "logo": None,
                                           "poster_language": None, "backdrop_language": None,
                                           "logo_language": None, "posters": [BASE + "w500/ok.jpg"],
                                           "backdrops": [], "logos": []}


def test_images_block_without_images_is_empty():
    assert images_block({}, BASE) == {"poster": None, "backdrop": None, "logo": None, "poster_language": None,
                                      "backdrop_language": None, "logo_language": None, "posters": [],
                                      "backdrops": [], "logos": []}


# --- trim_details -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["tmdb_movie_550_append_to_response_trimmed.json",
                                  "tmdb_movie_87421_riddick_append_all.json"])
def test_trim_details_keeps_what_the_blocks_need(name, configuration):
    details = _load(name)
    trimmed = trim_details(details)
    assert metadata_block(trimmed) == metadata_block(details)
    base = image_base(configuration)
    assert images_block(trimmed, base) == images_block(details, base)
    for order in (("de", None, "en"), ("fr",), (None,)):
        assert images_block(trimmed, base, order=order) == images_block(details, base, order=order)
    for languages in (("de-DE", "en-US"), ("fr",)):
        assert metadata_block(trimmed, languages, ("DE", "US")) == metadata_block(details, languages, ("DE", "US"))
    # ...and nothing else: the appended parts the blocks never read are gone.
    for unused in ("alternative_titles", "releases", "watch/providers", "budget", "homepage"):
        assert unused not in trimmed
    assert len(orjson.dumps(trimmed)) < len(orjson.dumps(details)) / 2
    assert orjson.loads(orjson.dumps(trimmed)) == trimmed  # plain JSON, fit for a checkpoint


def test_trim_details_is_idempotent(riddick):
    once = trim_details(riddick)
    assert trim_details(once) == once


def test_trim_details_without_appended_parts():
    details = {"id": 1, "title": "Plain", "poster_path": "/p.jpg", "homepage": "http://x"}
    assert trim_details(details) == {"id": 1, "title": "Plain", "poster_path": "/p.jpg"}


def test_trim_details_keeps_ten_named_cast_members_when_one_is_nameless(riddick):
    details = copy.deepcopy(riddick)
    details["credits"]["cast"].insert(0, {"name": "", "character": "Uncredited", "order": 0})
    assert len(metadata_block(details)["cast"]) == CAST_LIMIT
    assert metadata_block(trim_details(details)) == metadata_block(details)
