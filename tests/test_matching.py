"""Tests for movie_enrichment.transforms.matching (record parsing, normalisation, candidate choice)."""

from __future__ import annotations

import re

import pytest

from movie_enrichment.transforms.matching import (
    STATUS_AMBIGUOUS,
    STATUS_NOT_FOUND,
    STATUS_OK,
    InvalidRecord,
    MatchResult,
    MovieQuery,
    by_id,
    match_movie,
    normalize_title,
    query_from_record,
    search_query,
    title_similarity,
)

# --- Fakes shaped like TMDB bodies ----------------------------------------------------------


def movie(tmdb_id: int, title: str, date: str = "", original_title: str | None = None, popularity: float = 10.0):
    """A /search/movie result entry."""
    return {
        "id": tmdb_id,
        "title": title,
        "original_title": original_title or title,
        "release_date": date,
        "popularity": popularity,
        "original_language": "en",
    }


def details_body(tmdb_id: int, title: str, *directors: str) -> dict:
    """A /movie/{id}?append_to_response=credits body, trimmed."""
    crew = [{"id": 900 + i, "name": n, "original_name": n, "job": "Director", "department": "Directing"}
            for i, n in enumerate(directors)]
    crew.append({"id": 1, "name": "Someone Else", "job": "Producer", "department": "Production"})
    return {"id": tmdb_id, "title": title, "credits": {"cast": [], "crew": crew}}


class FakeTmdb:
    """Records every call; search answers by exact query string (anything else -> [])."""

    def __init__(self, searches=None, finds=None, details=None):
        self.searches = searches or {}
        self.finds = finds or {}
        self.bodies = details or {}
        self.calls: list[tuple[str, object]] = []

    def search(self, query: str) -> list[dict]:
        self.calls.append(("search", query))
        return self.searches.get(query, [])

    def find_by_imdb(self, imdb_id: str) -> list[dict]:
        self.calls.append(("find", imdb_id))
        return self.finds.get(imdb_id, [])

    def details(self, tmdb_id: int) -> dict | None:
        self.calls.append(("details", tmdb_id))
        return self.bodies.get(tmdb_id)

    def match(self, q: MovieQuery) -> MatchResult:
        result = match_movie(q, self.search, self.find_by_imdb, self.details)
        assert result.requests == len(self.calls), "requests must count every call"
        return result


def q(title: str, year: int | None = None, directors: tuple[str, ...] = (), tmdb_id=None, imdb_id=None):
    return MovieQuery(title=title, year=year, directors=directors, tmdb_id=tmdb_id, imdb_id=imdb_id)


# --- query_from_record ----------------------------------------------------------------------


def test_record_basic_fields():
    got = query_from_record("k", {"title": "Matrix, The", "year": 1999, "director": "Lana Wachowski, Lilly Wachowski",
                                  "imdb_id": "tt0133093"})
    assert got == MovieQuery("The Matrix", 1999, ("Lana Wachowski", "Lilly Wachowski"), None, "tt0133093")


@pytest.mark.parametrize("year_value, expected", [
    (1999, 1999), ("1999", 1999), ("1999-05-01", 1999), ("(1999)", 1999), (" 1999 ", 1999), (1999.0, 1999),
    (1869, None), (2101, None), ("soon", None), ("19999", None), (None, None), (True, None),
])
def test_record_year_forms(year_value, expected):
    assert query_from_record("k", {"title": "X", "year": year_value}).year == expected


def test_record_year_fallbacks():
    assert query_from_record("k", {"title": "X", "release_date": "2019-05-30"}).year == 2019
    assert query_from_record("k", {"title": "X", "release_year": "1982"}).year == 1982
    # A broken "year" does not hide a good release_date.
    assert query_from_record("k", {"title": "X", "year": "n/a", "release_date": "2001-01-01"}).year == 2001


def test_record_year_glued_to_title():
    got = query_from_record("k", {"title": "Matrix, The (1999)"})
    assert (got.title, got.year) == ("The Matrix", 1999)
    # An explicit year wins over the one in the title.
    assert query_from_record("k", {"title": "Heat (1995)", "year": 1996}).year == 1996


@pytest.mark.parametrize("value, expected", [
    ("Franco Zeffirelli", ("Franco Zeffirelli",)),
    ("Browning, Kirk", ("Browning, Kirk",)),  # one inverted name, not two people
    ("Kevin Kline & Kirk Browning", ("Kevin Kline", "Kirk Browning")),
    ("Kevin Kline and Kirk Browning", ("Kevin Kline", "Kirk Browning")),
    ("Kline, Kevin & Browning, Kirk", ("Kline, Kevin", "Browning, Kirk")),
    ("Lana Wachowski, Lilly Wachowski", ("Lana Wachowski", "Lilly Wachowski")),
    ("Joel & Ethan Coen", ("Joel & Ethan Coen",)),  # cannot be split without inventing a name
    ("Cher", ("Cher",)),
    ("A Person; B Person", ("A Person", "B Person")),
    (["Kevin Kline", " Kirk  Browning ", "", 3, "Kevin Kline"], ("Kevin Kline", "Kirk Browning")),
    ([{"name": "Bong Joon-ho"}], ("Bong Joon-ho",)),
    (None, ()), (42, ()),
])
def test_record_directors(value, expected):
    assert query_from_record("k", {"title": "X", "director": value}).directors == expected


def test_record_directors_plural_field():
    assert query_from_record("k", {"title": "X", "directors": ["Agnès Varda"]}).directors == ("Agnès Varda",)


def test_record_ids():
    assert query_from_record("k", {"title": "X", "tmdb_id": 603}).tmdb_id == 603
    assert query_from_record("k", {"title": "X", "tmdb_id": " 603 "}).tmdb_id == 603
    assert query_from_record("k", {"title": "X", "tmdb": {"id": 603, "title": "The Matrix"}}).tmdb_id == 603
    assert query_from_record("k", {"title": "X", "tmdb_id": "abc"}).tmdb_id is None
    assert query_from_record("k", {"title": "X", "tmdb_id": True}).tmdb_id is None
    assert query_from_record("k", {"title": "X", "imdb_id": "TT0133093"}).imdb_id == "tt0133093"
    assert query_from_record("k", {"title": "X", "imdb_id": "tt10872600"}).imdb_id == "tt10872600"
    assert query_from_record("k", {"title": "X", "imdb_id": "0133093"}).imdb_id is None
    assert query_from_record("k", {"title": "X", "imdb_id": "tt123"}).imdb_id is None


def test_record_title_fallbacks():
    assert query_from_record("k", {"name": "Alien"}).title == "Alien"
    assert query_from_record("Blade Runner", {"year": 1982}).title == "Blade Runner"
    assert query_from_record("k", {"title": 1917}).title == "1917"  # JSON number titles are real
    assert query_from_record("k", {"title": "  The   Thing "}).title == "The Thing"


@pytest.mark.parametrize("record", [
    {"title": "Unknown", "year": 2011},
    {"title": "Unknown", "director": "Jaume Collet-Serra"},
    {"title": "Unknown", "imdb_id": "tt1401152"},
    {"title": "Unknown", "tmdb_id": 48138},
    {"title": "  untitled ", "year": 1999},
])
def test_a_placeholder_title_with_something_else_to_go_on_is_looked_up(record):
    query = query_from_record("k", record)
    assert query.title == " ".join(record["title"].split())


@pytest.mark.parametrize("key, record, reason", [
    ("k", ["Alien"], "not an object (got list)"),
    ("k", 12.5, "not an object (got float)"),
    ("k", None, "not an object (got NoneType)"),
    ("k", {"title": ""}, "title is empty"),
    ("k", {"title": "   "}, "title is empty"),
    ("k", {"title": None}, "title is null"),
    ("k", {"title": 12.5}, "title is a float"),
    ("k", {"title": ["Alien"]}, "title is a list"),
    ("k", {"title": True}, "title is a boolean"),
    ("k", {"title": "Unknown"}, "title is 'Unknown', an unknown"),  # a placeholder and nothing else to go on
    ("k", {"title": "TBA", "note": "2011"}, "title is 'TBA', an unknown"),
    ("k", {"title": "N/A", "year": 2011}, "title is 'N/A', an unknown"),  # a marker, never a film's title
    ("k", {"title": None, "name": "Alien"}, "title is null"),  # an explicit bad title is not papered over
    ("", {"year": 1999}, "no title field"),
    ("  ", {"year": 1999}, "no title field"),
])
def test_invalid_records(key, record, reason):
    with pytest.raises(InvalidRecord, match=re.escape(reason)) as info:
        query_from_record(key, record)
    assert "\n" not in str(info.value)


# --- normalize_title / search_query ------------------------------------------------------------


@pytest.mark.parametrize("raw, expected", [
    ("Matrix, The", "matrix"),
    ("The Matrix", "matrix"),
    ("Harold & Maude", "harold and maude"),
    ("AMELIE", "amelie"),
    ("Amélie", "amelie"),
    ("WALL·E", "wall e"),
    ("Se7en", "se7en"),
    ("Alien³", "alien3"),
    ("Avventura, L'", "avventura"),
    ("Le Fabuleux Destin d'Amélie Poulain", "fabuleux destin d amelie poulain"),
    ("Dr. Strangelove or: How I Learned to Stop Worrying and Love the Bomb",
     "dr strangelove or how i learned to stop worrying and love the bomb"),
    ("1917", "1917"),
    ("The", "the"),
    ("Smultronstället", "smultronstallet"),
    ("Ødeland", "odeland"),
])
def test_normalize_title(raw, expected):
    assert normalize_title(raw) == expected


def test_title_similarity_rejects_look_alikes():
    def sim(a, b):
        return title_similarity(normalize_title(a), normalize_title(b))

    assert sim("Harold and Maude", "Harold & Maude") == 1.0
    assert sim("Spider-Man", "Spiderman") == 1.0
    assert sim("The Shawshank Redemtion", "The Shawshank Redemption") > 0.9  # a typo survives
    for a, b in [("Aliens", "Alien"), ("Heat", "Heat Wave"), ("The Thing", "The Thing About Harry"),
                 ("300", "3000"), ("300", "300: Rise of an Empire"), ("Rocky II", "Rocky III"),
                 ("Mission: Impossible 2", "Mission: Impossible 3"), ("Alien", "Alien³")]:
        assert sim(a, b) < 0.8, (a, b)


def test_search_query():
    assert search_query(query_from_record("k", {"title": "Matrix, The"})) == "The Matrix"
    assert search_query(query_from_record("k", {"title": "Amélie"})) == "Amélie"
    assert search_query(query_from_record("k", {"title": "Harold & Maude"})) == "Harold & Maude"


# --- match_movie --------------------------------------------------------------------------------


def test_known_tmdb_id_makes_no_call():
    tmdb = FakeTmdb()
    result = tmdb.match(q("Whatever", tmdb_id=603))
    assert result == MatchResult(STATUS_OK, 603, 1.0, None, None, 0, match=by_id())
    assert result.match["signals"]["id"] == 1.0 and result.match["runner_up"] is None
    assert tmdb.calls == []


def test_imdb_id_path():
    tmdb = FakeTmdb(finds={"tt0137523": [movie(550, "Fight Club", "1999-10-15")]})
    result = tmdb.match(q("Fight Club", 1999, imdb_id="tt0137523"))
    assert (result.status, result.tmdb_id, result.score, result.requests) == (STATUS_OK, 550, 1.0, 1)
    assert tmdb.calls == [("find", "tt0137523")]


def test_imdb_id_unknown_falls_through_to_search():
    tmdb = FakeTmdb(searches={"Fight Club": [movie(550, "Fight Club", "1999-10-15")]})
    result = tmdb.match(q("Fight Club", 1999, imdb_id="tt0137523"))
    assert (result.status, result.tmdb_id, result.requests) == (STATUS_OK, 550, 2)
    assert tmdb.calls == [("find", "tt0137523"), ("search", "Fight Club")]


def test_remake_picked_by_year_not_popularity():
    results = [movie(11252, "Psycho", "1998-12-04", popularity=30.0), movie(539, "Psycho", "1960-06-22", popularity=20.0)]
    tmdb = FakeTmdb(searches={"Psycho": results})
    result = tmdb.match(q("Psycho", 1960))
    assert (result.status, result.tmdb_id, result.score, result.requests) == (STATUS_OK, 539, 1.0, 1)
    assert FakeTmdb(searches={"Psycho": results}).match(q("Psycho", 1998)).tmdb_id == 11252


def test_remake_without_year_is_ambiguous_despite_popularity():
    results = [movie(11252, "Psycho", "1998-12-04", popularity=30.0), movie(539, "Psycho", "1960-06-22", popularity=5.0)]
    result = FakeTmdb(searches={"Psycho": results}).match(q("Psycho"))
    assert result.status == STATUS_AMBIGUOUS and result.tmdb_id is None
    assert "#11252" in result.reason and "#539" in result.reason


def test_remake_without_year_resolved_by_director():
    results = [movie(11252, "Psycho", "1998-12-04"), movie(539, "Psycho", "1960-06-22")]
    bodies = {11252: details_body(11252, "Psycho", "Gus Van Sant"), 539: details_body(539, "Psycho", "Alfred Hitchcock")}
    tmdb = FakeTmdb(searches={"Psycho": results}, details=bodies)
    result = tmdb.match(q("Psycho", directors=("Alfred Hitchcock",)))
    assert (result.status, result.tmdb_id) == (STATUS_OK, 539)
    assert result.details is bodies[539]


HAMLETS = [movie(10264, "Hamlet", "1990-12-19", popularity=12.0), movie(287587, "Hamlet", "1990-11-02", popularity=2.0)]
HAMLET_BODIES = {
    10264: details_body(10264, "Hamlet", "Franco Zeffirelli"),
    287587: details_body(287587, "Hamlet", "Kevin Kline", "Kirk Browning"),
}


@pytest.mark.parametrize("directors, expected", [
    (("Franco Zeffirelli",), 10264),
    (("Browning, Kirk",), 287587),
    (("KEVIN KLINE",), 287587),
])
def test_same_title_and_year_told_apart_by_director(directors, expected):
    tmdb = FakeTmdb(searches={"Hamlet": HAMLETS}, details=HAMLET_BODIES)
    result = tmdb.match(q("Hamlet", 1990, directors))
    assert (result.status, result.tmdb_id) == (STATUS_OK, expected)
    assert result.details is HAMLET_BODIES[expected]  # reused: the pipeline must not fetch it again
    assert result.requests == 3  # one search + details of both candidates


def test_same_title_and_year_without_director_is_ambiguous():
    tmdb = FakeTmdb(searches={"Hamlet": HAMLETS}, details=HAMLET_BODIES)
    result = tmdb.match(q("Hamlet", 1990))
    assert result.status == STATUS_AMBIGUOUS
    assert result.reason == "2 candidates tie: 'Hamlet' (1990) #10264, #287587"
    assert result.requests == 1  # no director to check: details would not help


def test_same_title_and_year_with_unknown_directors_stays_ambiguous():
    bodies = {10264: details_body(10264, "Hamlet"), 287587: details_body(287587, "Hamlet")}
    result = FakeTmdb(searches={"Hamlet": HAMLETS}, details=bodies).match(q("Hamlet", 1990, ("Someone",)))
    assert result.status == STATUS_AMBIGUOUS and result.requests == 3


def test_clear_winner_needs_no_details_call():
    tmdb = FakeTmdb(searches={"The Matrix": [movie(603, "The Matrix", "1999-03-31"),
                                             movie(604, "The Matrix Reloaded", "2003-05-15")]})
    result = tmdb.match(query_from_record("k", {"title": "Matrix, The", "year": 1999, "director": "Lana Wachowski"}))
    assert (result.status, result.tmdb_id, result.details, result.requests) == (STATUS_OK, 603, None, 1)


def test_director_mismatch_on_only_candidate_with_far_year_is_not_found():
    # The 2011 prequel for a 1982 record: the director check runs (low confidence) and disagrees.
    tmdb = FakeTmdb(searches={"The Thing": [movie(60935, "The Thing", "2011-10-12")]},
                    details={60935: details_body(60935, "The Thing", "Matthijs van Heijningen Jr.")})
    result = tmdb.match(q("The Thing", 1982, ("John Carpenter",)))
    assert result.status == STATUS_NOT_FOUND and "#60935" in result.reason
    assert result.requests == 2


def test_director_match_forgives_a_wrong_year():
    tmdb = FakeTmdb(searches={"The Thing": [movie(1091, "The Thing", "1982-06-25")]},
                    details={1091: details_body(1091, "The Thing", "John Carpenter")})
    result = tmdb.match(q("The Thing", 1987, ("John Carpenter",)))  # a DVD year in the scrape
    assert (result.status, result.tmdb_id, result.requests) == (STATUS_OK, 1091, 2)
    assert result.details["id"] == 1091


def test_details_404_drops_the_candidate():
    tmdb = FakeTmdb(searches={"Hamlet": HAMLETS}, details={287587: HAMLET_BODIES[287587]})
    result = tmdb.match(q("Hamlet", 1990, ("Franco Zeffirelli",)))
    # Zeffirelli's entry 404s; the remaining one has a different director: rejected, not guessed.
    assert result.status == STATUS_NOT_FOUND and result.requests == 3


def test_details_checks_capped_at_three():
    results = [movie(i, "Hamlet", "1990-01-01") for i in range(1, 6)]
    tmdb = FakeTmdb(searches={"Hamlet": results}, details={i: details_body(i, "Hamlet", "X Y") for i in range(1, 6)})
    result = tmdb.match(q("Hamlet", 1990, ("Franco Zeffirelli",)))
    assert [c for c in tmdb.calls if c[0] == "details"] == [("details", 1), ("details", 2), ("details", 3)]
    # The unchecked two keep full evidence and tie: never guess.
    assert result.status == STATUS_AMBIGUOUS and "#4, #5" in result.reason


def test_article_moved_to_front():
    tmdb = FakeTmdb(searches={"The Matrix": [movie(603, "The Matrix", "1999-03-31")]})
    result = tmdb.match(query_from_record("k", {"title": "Matrix, The", "year": "1999"}))
    assert (result.status, result.tmdb_id) == (STATUS_OK, 603)


def test_ampersand_matches_and():
    tmdb = FakeTmdb(searches={"Harold & Maude": [movie(343, "Harold and Maude", "1971-12-20")]})
    result = tmdb.match(q("Harold & Maude", 1971))
    assert (result.status, result.tmdb_id, result.score) == (STATUS_OK, 343, 1.0)


def test_ampersand_retry_when_first_search_is_empty():
    tmdb = FakeTmdb(searches={"Harold and Maude": [movie(343, "Harold and Maude", "1971-12-20")]})
    result = tmdb.match(q("Harold & Maude", 1971))
    assert (result.status, result.tmdb_id, result.requests) == (STATUS_OK, 343, 2)
    assert tmdb.calls == [("search", "Harold & Maude"), ("search", "Harold and Maude")]


def test_accents_and_case():
    results = [movie(194, "Amélie", "2001-04-25", original_title="Le Fabuleux Destin d'Amélie Poulain")]
    result = FakeTmdb(searches={"AMELIE": results}).match(q("AMELIE", 2001))
    assert (result.status, result.tmdb_id) == (STATUS_OK, 194)
    # The original title works too.
    result = FakeTmdb(searches={"Le fabuleux destin d'Amelie Poulain": results}).match(
        q("Le fabuleux destin d'Amelie Poulain", 2001))
    assert (result.status, result.tmdb_id) == (STATUS_OK, 194)


def test_original_title_only_record():
    results = [movie(490, "The Seventh Seal", "1957-02-16", original_title="Det sjunde inseglet"),
               movie(777, "The Seventh Sign", "1988-04-01")]
    result = FakeTmdb(searches={"Det sjunde inseglet": results}).match(q("Det sjunde inseglet", 1957))
    assert (result.status, result.tmdb_id, result.score) == (STATUS_OK, 490, 1.0)


def test_numeric_title_1917():
    results = [movie(530915, "1917", "2019-12-25", popularity=40.0),
               movie(111, "1917", "1970-01-01", popularity=1.0),
               movie(112, "Petrograd 1917", "2017-03-01", popularity=2.0)]
    tmdb = FakeTmdb(searches={"1917": results})
    result = tmdb.match(query_from_record("k", {"title": 1917, "year": 2019}))
    assert (result.status, result.tmdb_id) == (STATUS_OK, 530915)


def test_numeric_title_300_not_its_sequel():
    results = [movie(53182, "300: Rise of an Empire", "2014-03-05", popularity=60.0),
               movie(1271, "300", "2007-03-07", popularity=50.0)]
    result = FakeTmdb(searches={"300": results}).match(q("300"))
    assert (result.status, result.tmdb_id) == (STATUS_OK, 1271)


def test_festival_year_one_off():
    results = [movie(496243, "Parasite", "2019-05-30", original_title="기생충", popularity=80.0),
               movie(27549, "Parasite", "1982-03-12", popularity=5.0)]
    result = FakeTmdb(searches={"Parasite": results}).match(q("Parasite", 2018))
    assert (result.status, result.tmdb_id) == (STATUS_OK, 496243)
    assert 0.9 <= result.score < 1.0


def test_only_look_alikes_is_not_found():
    results = [movie(700, "The Thing About Harry", "2020-02-15"), movie(701, "The Things We Do", "2009-01-01")]
    result = FakeTmdb(searches={"The Thing": results}).match(q("The Thing", 1982))
    assert result.status == STATUS_NOT_FOUND and result.tmdb_id is None
    assert "no candidate title matches 'The Thing'" in result.reason


@pytest.mark.parametrize("wanted, look_alike", [("Aliens", "Alien"), ("Heat", "Heat Wave")])
def test_near_titles_do_not_match(wanted, look_alike):
    result = FakeTmdb(searches={wanted: [movie(5, look_alike, "1986-01-01")]}).match(q(wanted, 1986))
    assert result.status == STATUS_NOT_FOUND


def test_exact_title_far_year_is_not_found():
    result = FakeTmdb(searches={"The Thing": [movie(60935, "The Thing", "2011-10-12")]}).match(q("The Thing", 1982))
    assert result.status == STATUS_NOT_FOUND
    assert "'The Thing' (2011) #60935" in result.reason and "year 2011 vs 1982" in result.reason


def test_zero_results_is_not_found():
    tmdb = FakeTmdb()
    result = tmdb.match(q("Nonexistent Film", 2001))
    assert result.status == STATUS_NOT_FOUND and "returned no results" in result.reason
    assert tmdb.calls == [("search", "Nonexistent Film")]  # no useful variant: a single search


def test_punctuation_retry_is_a_single_extra_search():
    tmdb = FakeTmdb(searches={"WALL E": [movie(10681, "WALL·E", "2008-06-22")]})
    result = tmdb.match(q("WALL·E", 2008))
    assert (result.status, result.tmdb_id, result.requests) == (STATUS_OK, 10681, 2)


def test_malformed_search_entries_are_ignored():
    results = [{"title": "No id"}, "junk", movie(603, "The Matrix", "1999-03-31"), movie(603, "The Matrix", "1999")]
    result = FakeTmdb(searches={"The Matrix": results}).match(q("The Matrix", 1999))
    assert (result.status, result.tmdb_id) == (STATUS_OK, 603)


# --- The signals table: one score, its explanation from the same terms ------------------------------------------


def test_score_and_explanation_come_from_the_same_signals():
    from movie_enrichment.transforms import scoring

    q = MovieQuery("The Thing", 1982, ("John Carpenter",), None, None)
    far = scoring.score(q, scoring.Facts(year=2011, title_similarity=1.0, director_agrees=False))
    assert [t.signal for t in far.terms] == ["year", "director", "title"]
    assert far.value == scoring.YEAR.far * scoring.DIRECTOR.mismatch
    assert far.why() == " (year 2011 vs 1982, different director)"
    agreed = scoring.score(q, scoring.Facts(year=1983, title_similarity=0.9, director_agrees=True))
    assert agreed.value == scoring.YEAR.apart[1] * 0.9 and agreed.why() == " (year 1983 vs 1982, title similarity 0.90)"
    floor = scoring.score(q, scoring.Facts(year=1990, title_similarity=1.0, director_agrees=True))
    assert floor.value == scoring.YEAR.director_floor, "a director who agrees forgives the year"
    bare = MovieQuery("Hamlet", None, (), None, None)
    assert scoring.score(bare, scoring.Facts(year=1990, title_similarity=1.0)).unknowns() == ["year", "director"]


def test_the_original_title_competes_with_the_title():
    from movie_enrichment.transforms import scoring

    q = MovieQuery("Seventh Seal", 1957, (), None, None, original_title="Det sjunde inseglet")
    best = scoring.score(q, scoring.Facts(year=1957, title_similarity=0.5, original_title_similarity=1.0))
    assert best.value == 1.0 and best.why() == "" and best.factor("title") == 1.0
