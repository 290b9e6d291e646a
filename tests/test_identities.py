"""Identities over time (issue 25): films TMDB deletes or merges, explained matches, refresh by the film's age."""

import datetime
import json

import orjson
import pytest
from conftest import load

from movie_enrichment.model import OK, REMOVED
from movie_enrichment.transforms.selection import Selector

TITLES = ("Psycho", "Psycho (1998)", "Ocean's Eleven", "Scarface")
MERGED_ID = 99_999_901


@pytest.fixture
def small_db(tmp_path, sample_db):
    records = load(sample_db)
    path = tmp_path / "small.json"
    path.write_bytes(orjson.dumps({key: records[key] for key in TITLES}, option=orjson.OPT_INDENT_2))
    return path


def args(server, db, *extra):
    return ["--input", db, "--tmdb_base_url", server.url, "--http_cache", str(db) + ".cache", "--progress", "off",
            "--max_requests_per_second", "0", *extra]


def review(db) -> dict:
    path = db.parent / (db.name + ".review.jsonl")
    return {entry["key"]: entry for entry in map(json.loads, path.read_text().splitlines())} if path.exists() else {}


@pytest.mark.slow
def test_deleted_film_keeps_its_data_and_merged_film_is_followed(tmdb_server, small_db, cli):
    assert cli(args(tmdb_server, small_db)).returncode == 0
    before = load(small_db)
    assert all(before[key]["enrichment"]["metadata"]["status"] == OK for key in TITLES)
    deleted, merged = before["Psycho"]["tmdb"]["id"], before["Ocean's Eleven"]["tmdb"]["id"]
    tmdb_server.remove_movie(deleted)
    tmdb_server.remove_movie(merged, merged_into=MERGED_ID)

    done = cli(args(tmdb_server, small_db, "--reprocess", "all"))
    assert done.returncode == 0, done.stderr
    after = load(small_db)

    gone = after["Psycho"]
    assert gone["tmdb"] == before["Psycho"]["tmdb"], "the last TMDB data stays"
    assert gone["images"] == before["Psycho"]["images"]
    assert gone["enrichment"]["metadata"]["status"] == REMOVED
    assert gone["enrichment"]["metadata"]["tmdb_id"] == deleted
    assert review(small_db)["Psycho"]["status"] == REMOVED

    followed = after["Ocean's Eleven"]
    assert followed["tmdb"]["id"] == MERGED_ID
    assert followed["enrichment"]["metadata"]["status"] == OK
    assert followed["enrichment"]["metadata"]["previous_tmdb_id"] == merged
    assert "Ocean's Eleven" not in review(small_db)
    # The others are untouched by the removals.
    assert after["Scarface"]["tmdb"]["id"] == before["Scarface"]["tmdb"]["id"]

    # A removed film is retried by --reprocess not_found, and stays removed with its data.
    assert cli(args(tmdb_server, small_db, "--reprocess", "not_found")).returncode == 0
    again = load(small_db)["Psycho"]
    assert again["enrichment"]["metadata"]["status"] == REMOVED and again["tmdb"] == before["Psycho"]["tmdb"]


@pytest.mark.slow
def test_a_matched_outcome_explains_its_match(tmdb_server, small_db, cli):
    assert cli(args(tmdb_server, small_db)).returncode == 0
    outcome = load(small_db)["Psycho"]["enrichment"]["metadata"]
    match = outcome["match"]
    assert match["score"] == outcome["match_score"]
    assert match["signals"]["title"] == 1.0 and match["signals"]["year"] == 1.0
    assert match["signals"]["original_title"] is None and match["signals"]["id"] is None
    # The 1998 remake is the runner-up, and scored far below (three years or more apart).
    assert match["runner_up"]["title"] == "Psycho" and match["runner_up"]["score"] < 0.6


NOW = datetime.datetime(2026, 6, 1, 12, tzinfo=datetime.timezone.utc)


def movie(released: str | None, days_ago: float, status: str = OK) -> dict:
    when = (NOW - datetime.timedelta(days=days_ago)).isoformat().replace("+00:00", "Z")
    return {"title": "x", "tmdb": {"id": 1, "release_date": released},
            "enrichment": {"metadata": {"status": status, "updated_at": when}}}


@pytest.mark.parametrize(("released", "days_ago", "due"), [
    ("2026-05-01", 8, True),     # released a month ago: after 7 days
    ("2026-05-01", 6, False),
    ("2027-03-01", 8, True),     # not released yet: as a new film
    ("2025-06-01", 31, True),    # a year old: after 30 days
    ("2025-06-01", 20, False),
    ("1960-06-16", 181, True),   # older: after 180 days
    ("1960-06-16", 100, False),
    (None, 31, True),            # no date: after 30 days
])
def test_the_age_policy_picks_only_the_films_due(released, days_ago, due):
    selector = Selector(enrichers=("metadata",), mode="stale", now=NOW)
    assert bool(selector.needed("k", movie(released, days_ago))) is due


def test_stale_after_still_sets_one_period_and_removed_failed_are_always_due():
    flat = Selector(enrichers=("metadata",), mode="stale", now=NOW, stale_before=NOW - datetime.timedelta(days=3))
    assert flat.needed("k", movie("1960-06-16", 4)) and not flat.needed("k", movie("2026-05-01", 2))
    by_age = Selector(enrichers=("metadata",), mode="stale", now=NOW)
    assert by_age.needed("k", movie("1960-06-16", 1, REMOVED)) and by_age.needed("k", movie(None, 0, "failed"))
    assert by_age.stale_cutoff() == NOW - datetime.timedelta(days=7)
    assert not Selector(enrichers=("metadata",), mode="missing").needed("k", movie(None, 0, REMOVED))


def report_of(db) -> dict:
    return json.loads((db.parent / (db.name + ".report.json")).read_text())


@pytest.mark.slow
def test_the_report_names_what_changed_identity(tmdb_server, tmp_path, sample_db, cli):
    # An array file: its records are named by title and year, and the report names them so, never by #N.
    records = load(sample_db)
    db = tmp_path / "films.json"
    db.write_bytes(orjson.dumps([records[key] for key in TITLES], option=orjson.OPT_INDENT_2))
    assert cli(args(tmdb_server, db)).returncode == 0
    first = report_of(db)
    assert (first["reidentified"], first["removed"], first["shared_matches"]) == ([], [], [])
    before = load(db)
    deleted, merged = before[0]["tmdb"]["id"], before[2]["tmdb"]["id"]
    tmdb_server.remove_movie(deleted)
    tmdb_server.remove_movie(merged, merged_into=MERGED_ID)

    done = cli(args(tmdb_server, db, "--reprocess", "all"))
    assert done.returncode == 0, done.stderr
    report = report_of(db)
    assert report["removed"] == ["Psycho (1960)"]
    assert report["reidentified"] == [{"key": "Ocean's Eleven (2001)", "from": merged, "to": MERGED_ID}]
    assert "removed from TMDB 1" in done.stdout and "Psycho (1960)" in done.stdout
    assert f"Ocean's Eleven (2001) ({merged} -> {MERGED_ID})" in done.stdout
    assert "films TMDB removed" in done.stdout
    assert set(review(db)) == {"Psycho (1960)"}


@pytest.mark.slow
def test_two_records_of_one_film_are_reported_over_the_whole_database(tmdb_server, tmp_path, sample_db, cli):
    records = load(sample_db)
    db = tmp_path / "films.json"
    films = {key: records[key] for key in ("Heat", "Scarface", "Psycho")}
    films["Heat [1995]"] = dict(records["Heat"])
    db.write_bytes(orjson.dumps(films, option=orjson.OPT_INDENT_2))
    done = cli(args(tmdb_server, db))
    assert done.returncode == 0, done.stderr
    enriched = load(db)
    heat = enriched["Heat"]["tmdb"]["id"]
    assert enriched["Heat [1995]"]["tmdb"]["id"] == heat, "both matched: nothing is merged"
    assert report_of(db)["shared_matches"] == [{"tmdb_id": heat, "keys": ["Heat", "Heat [1995]"]}]
    listed = review(db)
    assert {key for key, entry in listed.items() if entry["status"] == "shared"} == {"Heat", "Heat [1995]"}
    assert listed["Heat"]["tmdb_id"] == heat and listed["Heat"]["keys"] == ["Heat", "Heat [1995]"]
    assert "records matched to one film 1" in done.stdout

    # A later run that looks up one new record only still finds the pair (over every record), and lists it once.
    films = load(db)
    films["Heat Lightning"] = records["Heat Lightning"]
    db.write_bytes(orjson.dumps(films, option=orjson.OPT_INDENT_2))
    done = cli(args(tmdb_server, db))
    assert done.returncode == 0, done.stderr
    assert report_of(db)["movies_looked_up"] == 1
    assert report_of(db)["shared_matches"] == [{"tmdb_id": heat, "keys": ["Heat", "Heat [1995]"]}]
    lines = (db.parent / (db.name + ".review.jsonl")).read_text().splitlines()
    assert sorted(json.loads(line)["key"] for line in lines if '"shared"' in line) == ["Heat", "Heat [1995]"]

    # Merged by the user (the duplicate deleted), the pair is gone from the report and the review list, though the
    # run looks nothing up.
    films = load(db)
    del films["Heat [1995]"]
    db.write_bytes(orjson.dumps(films, option=orjson.OPT_INDENT_2))
    assert cli(args(tmdb_server, db)).returncode == 0
    assert report_of(db)["movies_looked_up"] == 0
    assert report_of(db)["shared_matches"] == []
    assert not any(entry["status"] == "shared" for entry in review(db).values())


@pytest.mark.slow
def test_a_database_store_finds_shared_matches_among_rows_the_run_does_not_read(tmdb_server, tmp_path, sample_db,
                                                                               cli):
    records = load(sample_db)
    db = tmp_path / "films.json"
    films = {key: records[key] for key in ("Heat", "Scarface")}
    films["Heat [1995]"] = dict(records["Heat"])
    db.write_bytes(orjson.dumps(films, option=orjson.OPT_INDENT_2))
    assert cli(args(tmdb_server, db)).returncode == 0
    heat = load(db)["Heat"]["tmdb"]["id"]
    store = f"sqlite:///{tmp_path / 'films.db'}"
    assert cli(["convert", "--input", db, "--output", store]).returncode == 0
    done = cli(["--input", store, "--tmdb_base_url", tmdb_server.url, "--http_cache", str(tmp_path / "cache"),
                "--progress", "off", "--max_requests_per_second", "0"])  # every row is enriched: none is read
    assert done.returncode == 0, done.stderr
    (report,) = [path for path in tmp_path.glob("films.db*.report.json")]
    written = orjson.loads(report.read_bytes())
    assert written["movies_looked_up"] == 0
    assert written["shared_matches"] == [{"tmdb_id": heat, "keys": ["Heat", "Heat [1995]"]}]


def test_reprocess_stale_without_stale_after_is_a_valid_option(sample_db, tmdb_server):
    import movie_enrichment
    movie_enrichment.check_options(input=str(sample_db), tmdb_api_key="k", tmdb_base_url=tmdb_server.url,
                                   reprocess="stale")
    assert tmdb_server.counts()["total"] == 0
