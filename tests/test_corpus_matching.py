"""The matcher on tables of other shapes against the local TMDB server: detection, fallback searches, figures."""

import pytest
from conftest import DATA, load

from movie_enrichment.io.tmdb import TmdbClient, TmdbSettings
from movie_enrichment.testing import catalog, corpus
from movie_enrichment.testing.tmdb_server import TmdbServer
from movie_enrichment.transforms import fields, matching

API_KEY = "test-api-key"


def _client(server) -> TmdbClient:
    client = TmdbClient(TmdbSettings(api_key=API_KEY, base_url=server.url, max_requests_per_second=0,
                                     cache_path=None))
    client.open()
    return client


def run_table(server, table: dict, expected: dict) -> dict:
    """Matches every record as the lookup does (roles detected on the table); returns the figures."""
    client = _client(server)
    roles = fields.detect_roles(table.values())
    wrong, missed, requests, looked_up = [], [], 0, 0
    try:
        for key, record in table.items():
            try:
                query = matching.query_from_record(key, record, roles)
            except matching.InvalidRecord:
                got = catalog.INVALID
            else:
                looked_up += 1
                result = matching.match_movie(query, client.search_movie, client.find_by_imdb,
                                              lambda tmdb_id: client.movie_details(tmdb_id, ("credits",)))
                # The lookup fetches the winner's details once when matching did not.
                requests += result.requests + int(result.status == matching.STATUS_OK and result.details is None)
                got = result.tmdb_id if result.status == matching.STATUS_OK else result.status
            want = expected[key]
            if got != want:
                (missed if got in (matching.STATUS_NOT_FOUND, matching.STATUS_AMBIGUOUS) else wrong).append(
                    (key, want, got))
    finally:
        client.close()
    findable = sum(isinstance(v, int) for v in expected.values())
    matched = findable - sum(isinstance(want, int) for _, want, _ in wrong + missed)
    return {"findable": findable, "matched": matched, "wrong": wrong, "missed": missed,
            "per_movie": requests / looked_up}


def test_shapes_corpus_is_matched_right_within_budget():
    table, expected = corpus.shapes_corpus()
    with TmdbServer(catalog=corpus.full_catalog(), api_key=API_KEY) as server:
        figures = run_table(server, table, expected)
    assert figures["wrong"] == []
    assert figures["matched"] >= 0.97 * figures["findable"], figures["missed"]
    assert figures["per_movie"] <= 2.1, figures


def test_sample_renamed_to_a_scraped_convention_is_matched_right_within_budget():
    expected = load(DATA / "sample_expected.json")
    table = corpus.rename_sample(load(DATA / "sample_movies.json"))
    assert {"Title", "Release Date", "Director"} <= set(table["Psycho (1998)"])
    with TmdbServer(api_key=API_KEY) as server:
        figures = run_table(server, table, expected)
    assert figures["wrong"] == []
    assert figures["matched"] >= 0.97 * figures["findable"], figures["missed"]
    assert figures["per_movie"] <= 2.1, figures


@pytest.fixture(scope="module")
def server():
    with TmdbServer(catalog=corpus.full_catalog() + _homes(), api_key=API_KEY) as running:
        yield running


def _homes() -> list[dict]:
    """25 films called "Home", 1990 to 2014, the older the less popular: a search's first page hides the oldest."""
    return catalog.load(corpus.FULL_PAGE_FILMS_FILE)


def match(server, record: dict) -> matching.MatchResult:
    client = _client(server)
    try:
        query = matching.query_from_record("key", record, fields.detect_roles([record]))
        return matching.match_movie(query, client.search_movie, client.find_by_imdb,
                                    lambda tmdb_id: client.movie_details(tmdb_id, ("credits",)))
    finally:
        client.close()


@pytest.mark.parametrize("record, tmdb_id", [
    ({"Title": "Gladiator", "Release Date": "May 05 2000", "Director": "Ridley Scott"}, 98),
    ({"Title": "Gladiator", "Release Date": "Mar 06 1992"}, 910001),
    ({"Title": "Babe", "Year": 1995}, 9598),
    ({"Title": "The Babe", "Year": 1992}, 910002),
    ({"Title": "Sicko", "Year": "2007"}, 2359),
    ({"Title": "Sicko", "Released": "1 Sep 2006"}, 910003),
    ({"Title": "Nightfall", "Year": 2017, "Director": "Bo Sample"}, 910006),   # only the director decides
    ({"Title": "Nightfall", "Year": 2017, "Directed By": "Ann Example"}, 910005),
    ({"Title": "Hamlet", "Year": 1990, "Director": {"name": "Franco Zeffirelli"}}, 10264),
])
def test_remakes_and_same_title_films(server, record, tmdb_id):
    result = match(server, record)
    assert (result.status, result.tmdb_id) == (matching.STATUS_OK, tmdb_id), result.reason


@pytest.mark.parametrize("record, tmdb_id", [
    ({"Title": "Unknown", "Year": 2011, "Director": "Jaume Collet-Serra", "IMDb ID": "tt1401152"}, 48138),
    ({"Title": "Unknown", "Year": 2011, "Director": "Jaume Collet-Serra"}, 48138),
    ({"Title": "Unknown", "Year": 2006, "Director": "Simon Brand"}, 13507),
    ({"Title": "Unknown", "Director": "Simon Brand"}, 13507),  # the director alone tells the two apart
])
def test_a_film_titled_like_a_placeholder_is_matched(server, record, tmdb_id):
    result = match(server, record)
    assert (result.status, result.tmdb_id) == (matching.STATUS_OK, tmdb_id), result.reason


def test_a_placeholder_title_alone_is_invalid(server):
    with pytest.raises(matching.InvalidRecord, match="'Unknown', an unknown"):
        match(server, {"Title": "Unknown", "Notes": "TBA"})


def test_title_without_its_leading_article(server):
    result = match(server, {"Title": "The Martian Child", "Year": 2007})
    assert (result.status, result.tmdb_id, result.requests) == (matching.STATUS_OK, 910004, 2)
    assert result.searches == ("'The Martian Child'", "'Martian Child'")


def test_original_title_when_the_title_finds_nothing(server):
    result = match(server, {"Title": "The Seventh Seal (restored)", "Original Title": "Det sjunde inseglet",
                            "Year": 1957})
    assert (result.status, result.tmdb_id) == (matching.STATUS_OK, 490), result.reason
    assert result.searches[-1] == "'Det sjunde inseglet'"


def test_year_one_off_when_a_full_page_hides_the_film(server):
    result = match(server, {"Title": "Home", "Year": 1989})  # the film is from 1990, beyond the first page
    assert (result.status, result.tmdb_id) == (matching.STATUS_OK, 921990), result.reason
    assert result.searches == ("'Home'", "'Home' in 1989", "'Home' in 1988", "'Home' in 1990")


def test_no_fallback_when_the_first_search_is_usable(server):
    result = match(server, {"Title": "Home", "Year": 2010})
    assert (result.status, result.tmdb_id, result.requests) == (matching.STATUS_OK, 922010, 1)


def test_ambiguous_and_not_found_come_with_candidates_to_review(server):
    tied = match(server, {"Title": "Nightfall", "Year": 2017})
    assert tied.status == matching.STATUS_AMBIGUOUS
    assert {c.tmdb_id for c in tied.candidates} == {910005, 910006}
    assert all("no director" in c.why_not and c.poster_path and c.year == 2017 for c in tied.candidates)
    far = match(server, {"Title": "Gladiator", "Year": 1970, "Director": "Nobody Known"})
    assert far.status == matching.STATUS_NOT_FOUND
    assert [c.tmdb_id for c in far.candidates][:2] in ([98, 910001], [910001, 98])
    assert all("below 0.60" in c.why_not for c in far.candidates)
    assert any(c.directors == ("Ridley Scott",) for c in far.candidates)
