"""Checks of the bundled test data (movie_enrichment/testing/data), the source of the catalog and the sample,
and of scripts/catalog_film.py, which makes catalog bodies."""

from __future__ import annotations

import importlib.util
import json
import re
import unicodedata
from pathlib import Path

import pytest

from movie_enrichment.testing import catalog
from movie_enrichment.transforms import matching

ROOT = Path(__file__).resolve().parents[1]
BODY_KEYS = {
    "id", "imdb_id", "title", "original_title", "original_language", "release_date", "overview", "tagline",
    "runtime", "genres", "popularity", "vote_average", "vote_count", "poster_path", "backdrop_path",
    "production_countries", "spoken_languages", "adult", "video", "status", "credits", "images", "external_ids",
}
IMAGE_PATH = re.compile(r"^/[A-Za-z0-9]+\.jpg$")


@pytest.fixture(scope="module")
def script():
    """scripts/catalog_film.py, loaded as a module."""
    spec = importlib.util.spec_from_file_location("catalog_film", ROOT / "scripts" / "catalog_film.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def films() -> list[dict]:
    return catalog.load(catalog.CATALOG_FILE)


@pytest.fixture(scope="module")
def sample() -> dict:
    return catalog.load(catalog.SAMPLE_FILE)


@pytest.fixture(scope="module")
def expected() -> dict:
    return catalog.load(catalog.EXPECTED_FILE)


def _norm(title: str) -> str:
    """Case-, accent- and punctuation-insensitive form of a title."""
    folded = unicodedata.normalize("NFKD", title)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch)).casefold().replace("&", " and ")
    return " ".join("".join(ch if ch.isalnum() else " " for ch in folded).split())


# --- The files, and the script that makes catalog bodies ----------------------------------------------


@pytest.mark.parametrize("name", [catalog.CATALOG_FILE, catalog.SAMPLE_FILE, catalog.EXPECTED_FILE])
def test_files_keep_their_canonical_text(name):
    text = (catalog.DATA_DIR / name).read_text(encoding="utf-8")
    assert text == catalog.render(json.loads(text)), f"{name} is not in render()'s format"


def test_every_body_is_what_the_script_makes_of_its_own_fields(script, films):
    assert script.mismatches(films) == []


def test_the_script_adds_a_film_and_replaces_one_by_id(script, tmp_path, films):
    path = tmp_path / "catalog.json"
    path.write_text(catalog.render(films[:2]), encoding="utf-8")
    described = [
        {"id": 900999, "title": "Paper Harbour", "original_language": "fr", "release_date": "2003-04-01",
         "runtime": 95, "directors": ["Ines Marek"], "genres": ["Drama"], "cast": [["Ana Roy", "Lise"]],
         "production_countries": ["FR", "BE"], "popularity": 3.5},
        {**dict(zip(script.FIELDS, script.row_of(films[0]))), "runtime": 1},
    ]
    (tmp_path / "films.json").write_text(json.dumps(described))
    assert script.main(["--catalog", str(path), "add", str(tmp_path / "films.json")]) == 0

    after = json.loads(path.read_text(encoding="utf-8"))
    assert [f["id"] for f in after] == [films[0]["id"], films[1]["id"], 900999]
    assert after[0]["runtime"] == 1 and after[0]["title"] == films[0]["title"] and after[1] == films[1]
    new = after[2]
    assert BODY_KEYS <= new.keys()
    assert new["imdb_id"] == "tt90900999" and new["original_title"] == "Paper Harbour"
    assert [c["name"] for c in new["credits"]["crew"]] == ["Ines Marek"]
    assert script.main(["--catalog", str(path), "check"]) == 0


def test_check_names_a_body_edited_out_of_step(script, tmp_path, films, capsys):
    edited = [dict(films[0], overview="written by hand"), films[1]]
    path = tmp_path / "catalog.json"
    path.write_text(catalog.render(edited), encoding="utf-8")
    assert script.main(["--catalog", str(path), "check"]) == 1
    assert str(films[0]["id"]) in capsys.readouterr().err


# --- Catalog ------------------------------------------------------------------------------------------


def test_catalog_ids_unique(films):
    ids = [f["id"] for f in films]
    assert len(ids) == len(set(ids))
    assert all(isinstance(i, int) and i > 0 for i in ids)


def test_catalog_imdb_ids_unique_and_well_formed(films):
    imdb_ids = [f["imdb_id"] for f in films]
    assert len(imdb_ids) == len(set(imdb_ids))
    assert all(re.match(r"^tt\d{7,9}$", i) for i in imdb_ids)
    assert all(f["external_ids"]["imdb_id"] == f["imdb_id"] for f in films)


def test_catalog_bodies_have_every_key(films):
    for film in films:
        assert BODY_KEYS <= film.keys(), film["id"]
        assert re.match(r"^\d{4}-\d{2}-\d{2}$", film["release_date"])
        assert isinstance(film["popularity"], float)
        assert film["genres"] and all(isinstance(g["id"], int) and g["name"] for g in film["genres"])
        assert film["adult"] is False and film["video"] is False and film["status"] == "Released"


def test_catalog_credits_name_a_director(films):
    for film in films:
        crew = film["credits"]["crew"]
        assert any(c["job"] == "Director" and c["department"] == "Directing" and c["name"] for c in crew), film["id"]
        assert [c["order"] for c in film["credits"]["cast"]] == list(range(len(film["credits"]["cast"])))


def test_catalog_image_paths(films):
    all_paths = []
    for film in films:
        images = film["images"]
        assert 2 <= len(images["posters"]) <= 3 and 1 <= len(images["backdrops"]) <= 3
        assert images["logos"] == []
        assert images["posters"][0]["file_path"] == film["poster_path"]
        assert images["backdrops"][0]["file_path"] == film["backdrop_path"]
        paths = [i["file_path"] for kind in ("posters", "backdrops") for i in images[kind]]
        assert all(IMAGE_PATH.match(p) and len(p) == 32 for p in paths), film["id"]
        all_paths += paths
    assert len(all_paths) == len(set(all_paths))


# --- Sample and expected answers ----------------------------------------------------------------------


def test_sample_keys_match_expected_keys(sample, expected):
    assert list(sample) == list(expected)


def test_expected_values(films, expected):
    ids = {f["id"] for f in films}
    for key, answer in expected.items():
        if isinstance(answer, int):
            assert answer in ids, key
        else:
            assert answer in (catalog.NOT_FOUND, catalog.INVALID), key


def test_not_found_titles_are_absent_from_catalog(films, sample, expected):
    known = {_norm(t) for f in films for t in (f["title"], f["original_title"])}
    missing = [key for key, answer in expected.items() if answer == catalog.NOT_FOUND]
    assert missing
    for key in missing:
        title = sample[key].get("title", key)
        assert _norm(title) not in known, key


def test_invalid_records_are_rejected_by_the_parser(sample, expected):
    for key, answer in expected.items():
        if answer == catalog.INVALID:
            with pytest.raises(matching.InvalidRecord):
                matching.query_from_record(key, sample[key])
        else:
            matching.query_from_record(key, sample[key])


# --- The expected answers are what the matcher decides against this catalog ---------------------------


def _words(text: str) -> set[str]:
    return set(_norm(text).split())


class CatalogApi:
    """A word-based stand-in for TMDB over the catalog: a search hit has every query word in its title."""

    def __init__(self, films: list[dict]):
        self.films = films
        self.by_id = {f["id"]: f for f in films}

    @staticmethod
    def summary(film: dict) -> dict:
        return {k: film[k] for k in ("id", "title", "original_title", "release_date", "popularity")}

    def search(self, query: str) -> list[dict]:
        wanted = _words(query)
        hits = [f for f in self.films
                if wanted and any(wanted <= _words(f[t]) for t in ("title", "original_title"))]
        return [self.summary(f) for f in sorted(hits, key=lambda f: -f["popularity"])]

    def find_by_imdb(self, imdb_id: str) -> list[dict]:
        return [self.summary(f) for f in self.films if f["imdb_id"] == imdb_id]

    def details(self, tmdb_id: int) -> dict | None:
        return self.by_id.get(tmdb_id)


@pytest.mark.slow
def test_expected_answers_agree_with_the_matcher(films, sample, expected):
    api = CatalogApi(films)
    wrong = {}
    for key, record in sample.items():
        try:
            query = matching.query_from_record(key, record)
        except matching.InvalidRecord:
            got = catalog.INVALID
        else:
            result = matching.match_movie(query, api.search, api.find_by_imdb, api.details)
            got = result.tmdb_id if result.status == matching.STATUS_OK else result.status
        if got != expected[key]:
            wrong[key] = (expected[key], got)
    assert not wrong


def test_found_titles_are_word_searchable(films, sample, expected):
    """Each expected film is found by a plain word search on its scraped title (no '&'/'and' retry needed)."""
    api = CatalogApi(films)
    for key, answer in expected.items():
        record = sample[key]
        if not isinstance(answer, int) or "tmdb_id" in record or "imdb_id" in record:
            continue
        query = matching.search_query(matching.query_from_record(key, record))
        assert answer in [hit["id"] for hit in api.search(query)], key
