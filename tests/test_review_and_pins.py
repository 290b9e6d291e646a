"""End to end against the local server: a table in other field names, the review list, pins and corrections."""

import json

import orjson
import pytest
from conftest import DATA, load

from movie_enrichment.testing import corpus
from movie_enrichment.testing.tmdb_server import TmdbServer
from movie_enrichment.transforms.selection import PinsError, Selector, read_pins


@pytest.fixture
def server():
    with TmdbServer(catalog=corpus.full_catalog(), api_key="test-api-key") as running:
        yield running


def args(server, db, *extra):
    return ["--input", db, "--tmdb_base_url", server.url, "--no_http_cache", "--progress", "off",
            "--max_requests_per_second", "0", *extra]


def requests_per_movie(server, looked_up: int) -> float:
    counts = server.counts()
    return (counts["total"] - counts["by_endpoint"].get("configuration", 0)) / looked_up


@pytest.mark.slow
def test_sample_in_a_scraped_tables_names_matched_end_to_end(server, tmp_path, cli):
    db = tmp_path / "db" / "movies.json"
    db.parent.mkdir()
    db.write_bytes(orjson.dumps(corpus.rename_sample(load(DATA / "sample_movies.json"))))
    expected = load(DATA / "sample_expected.json")
    dry = cli(args(server, db, "--dry_run"))
    assert "year: 'Release Date' (detected), usable in 179 of 200 records (90%)" in dry.stdout, dry.stdout
    assert server.counts()["total"] == 0
    done = cli(args(server, db))
    assert done.returncode == 0, done.stderr
    after = load(db)
    wrong, missed = corpus.score_output(after, expected)
    findable = sum(isinstance(v, int) for v in expected.values())
    assert wrong == []
    assert findable - len(missed) >= 0.97 * findable, missed
    assert requests_per_movie(server, sum(v != "invalid" for v in expected.values())) <= 2.1
    review = [orjson.loads(line) for line in (db.parent / "movies.json.review.jsonl").read_bytes().splitlines()]
    assert {entry["key"] for entry in review} == {k for k, v in expected.items() if v in ("not_found", "ambiguous")}


def review_of(db) -> dict:
    path = db.parent / (db.name + ".review.jsonl")
    return {e["key"]: e for e in map(orjson.loads, path.read_bytes().splitlines())} if path.exists() else {}


@pytest.mark.slow
def test_review_pin_and_rerun_loop(server, tmp_path, cli):
    db = tmp_path / "movies.json"
    db.write_text(json.dumps({
        "Nightfall": {"Title": "Nightfall", "Year": 2017},
        "Gladiator": {"Title": "Gladiator", "Release Date": "May 05 2000", "Director": "Ridley Scott"},
        "Gladiator (1992)": {"Title": "Gladiator", "Release Date": "May 05 1970"},
        "Babe": {"Title": "Babe", "Year": 1992},
        "Unknown Film": {"Title": "Unknown Film", "Year": 2001},
        "Sicko": {"Title": "Sicko", "Year": 2007},
    }))
    assert cli(args(server, db)).returncode == 0
    review = review_of(db)
    assert set(review) == {"Nightfall", "Gladiator (1992)", "Unknown Film"}
    tied = review["Nightfall"]
    assert tied["status"] == "ambiguous" and {c["tmdb_id"] for c in tied["candidates"]} == {910005, 910006}
    assert all(c["poster"].startswith("https://image.tmdb.org/t/p/") and c["year"] == 2017 and c["why_not"]
               for c in tied["candidates"])
    assert [c["tmdb_id"] for c in review["Gladiator (1992)"]["candidates"]] == [98, 910001]
    assert len(review["Gladiator (1992)"]["candidates"]) <= 3
    assert load(db)["Babe"]["tmdb"]["id"] == 910002  # a wrong match: "The Babe" (1992), not "Babe" (1995)

    # The user pins: an id written into one record, a --pins file for two more (one replaces the wrong match),
    # and corrects the title of another.
    data = load(db)
    data["Nightfall"]["tmdb_id"] = 910006
    data["Unknown Film"].update(Title="The Martian Child", Year=2007)
    db.write_bytes(orjson.dumps(data))
    pins = tmp_path / "pins.csv"
    pins.write_text("key,tmdb_id\nGladiator (1992),910001\nBabe,tt0112431\n")
    server.reset_counts()
    done = cli(args(server, db, "--pins", pins))
    assert done.returncode == 0, done.stderr
    after = load(db)
    assert {k: after[k]["tmdb"]["id"] for k in ("Nightfall", "Gladiator (1992)", "Babe", "Unknown Film")} == {
        "Nightfall": 910006, "Gladiator (1992)": 910001, "Babe": 9598, "Unknown Film": 910004}
    counts = server.counts()
    # Three pins at one request each; the corrected title searched again (with its article, then without) and
    # its details; /configuration.
    assert counts["by_endpoint"]["movie"] == 4 and counts["by_endpoint"]["search/movie"] == 2, counts
    assert counts["total"] == 7, counts
    assert review_of(db) == {}, "nothing left to review: the list is removed"

    # A plain rerun changes nothing and makes no request; a full refresh keeps every pin.
    server.reset_counts()
    assert cli(args(server, db)).returncode == 0
    assert server.counts()["total"] == 0
    assert cli(args(server, db, "--reprocess", "all")).returncode == 0
    final = load(db)
    assert {k: final[k]["tmdb"]["id"] for k in after} == {k: after[k]["tmdb"]["id"] for k in after}
    assert final["Babe"]["enrichment"]["metadata"]["pinned"] == "imdb:tt0112431"


@pytest.mark.slow
def test_a_corrected_year_is_looked_up_again_and_an_unrelated_edit_is_not(server, tmp_path, cli):
    db = tmp_path / "movies.json"
    db.write_text(json.dumps({"Gladiator": {"Title": "Gladiator", "Year": 1992, "Rating": 7}}))
    assert cli(args(server, db)).returncode == 0
    assert load(db)["Gladiator"]["tmdb"]["id"] == 910001
    data = load(db)
    data["Gladiator"]["Rating"] = 9  # not a match input
    db.write_bytes(orjson.dumps(data))
    server.reset_counts()
    assert cli(args(server, db)).returncode == 0
    assert server.counts()["total"] == 0
    data = load(db)
    data["Gladiator"]["Year"] = 2000  # the user corrects the year of a wrong match
    db.write_bytes(orjson.dumps(data))
    assert cli(args(server, db)).returncode == 0
    assert load(db)["Gladiator"]["tmdb"]["id"] == 98


def test_selector_picks_up_pins_and_corrections():
    selector = Selector(pins={"A": "tmdb:98"})
    done = {"enrichment": {"metadata": {"status": "not_found", "match_inputs": "x"}}}
    assert selector.needed("A", {"Title": "Gladiator", **done}) == ("metadata", "images")
    pinned = {"enrichment": {"metadata": {"status": "ok", "pinned": "tmdb:98"}}}
    assert Selector(("metadata",), pins={"A": "tmdb:98"}).needed("A", {"Title": "Gladiator", **pinned}) == ()
    assert Selector(("metadata",), pins={"A": "tmdb:99"}).needed("A", {"Title": "Gladiator", **pinned}) == (
        "metadata",)
    # A record enriched before match inputs were kept: an id written into it that is not its film.
    old = {"tmdb": {"id": 910001, "imdb_id": "tt9"}, "enrichment": {"metadata": {"status": "ok"}}}
    metadata = Selector(("metadata",))
    assert metadata.needed("B", {"Title": "Gladiator", **old}) == ()
    assert metadata.needed("B", {"Title": "Gladiator", "tmdb_id": 98, **old}) == ("metadata",)
    assert metadata.needed("B", {"Title": "Gladiator", "tmdb_id": 910001, **old}) == ()


def test_pins_file_lines():
    assert read_pins(["key,tmdb_id", "Gladiator,98", "", "# note", "Lock, Stock and Two Smoking Barrels,100",
                      "Babe, tt0112431", "Alien,https://www.themoviedb.org/movie/348-alien"]) == {
        "Gladiator": "tmdb:98", "Lock, Stock and Two Smoking Barrels": "tmdb:100", "Babe": "imdb:tt0112431",
        "Alien": "tmdb:348"}
    with pytest.raises(PinsError, match="line 2: expected KEY,TMDB_ID"):
        read_pins(["Gladiator,98", "Babe"])
    with pytest.raises(PinsError):
        read_pins(["Gladiator,ninety-eight"])


def test_bad_pins_file_and_bad_field_are_one_line_usage_errors(server, tmp_path, cli):
    db = tmp_path / "movies.json"
    db.write_text(json.dumps({"Heat": {"Title": "Heat"}}))
    pins = tmp_path / "pins.csv"
    pins.write_text("Heat\n")
    done = cli(args(server, db, "--pins", pins))
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1 and "line 1" in done.stderr
    done = cli(args(server, db, "--field", "yaer=Year"))
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1 and "--field" in done.stderr
    assert server.counts()["total"] == 0
