"""Field roles: each detector on the shapes real tables use, database-level detection, --field, match inputs."""

import datetime

import pytest

from movie_enrichment.transforms import fields
from movie_enrichment.transforms.fields import (
    DIRECTORS,
    IMDB_ID,
    ORIGINAL_TITLE,
    TITLE,
    TMDB_ID,
    YEAR,
    detect_roles,
    match_inputs,
    parse_directors,
    parse_field_option,
    parse_imdb_id,
    parse_title,
    parse_tmdb_id,
    parse_year,
)
from movie_enrichment.transforms.matching import InvalidRecord, query_from_record

# --- Values ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value, year", [
    ("2000-05-05", 2000), ("May 05 2000", 2000), ("5 May 2000", 2000), ("05/05/2000", 2000), ("2000", 2000),
    ("(2000)", 2000), ("c. 2000", 2000), ("circa 2000", 2000), ("2010-07-16T00:00:00Z", 2010),
    ("July 16, 2010", 2010), ("2010[3]", 2010), ("16 Jul 2010", 2010), ("2010–2013", 2010), ("2009.0", 2009),
    (2000, 2000), (2009.0, 2009), (" 1999 ", 1999), (["2011-01-02", "2010-07-16"], 2010),
    ("July 16, 2010 (United States)", 2010),
])
def test_year_read_from_every_date_shape(value, year):
    assert parse_year(value) == year


@pytest.mark.parametrize("value", [
    "N/A", "\\N", "TBA", "", None, True, "soon", "May 5", "19999", 1873, 1066, "1066", 2100, "2100-01-01",
    2000.5, {"x": 1},
])
def test_unknown_or_implausible_years_are_ignored(value):
    assert parse_year(value) is None


def test_a_year_a_few_years_ahead_is_kept_and_further_is_not():
    this_year = datetime.date.today().year
    assert parse_year(this_year + fields.YEARS_AHEAD) == this_year + fields.YEARS_AHEAD
    assert parse_year(this_year + fields.YEARS_AHEAD + 1) is None
    assert parse_year(fields.FIRST_FILM_YEAR) == fields.FIRST_FILM_YEAR


@pytest.mark.parametrize("value, title", [
    ("Gladiator", "Gladiator"), ("Avatar\u00a0", "Avatar"), (1917, "1917"), (300.0, "300"), ("  The  Thing ", "The Thing"),
    ({"name": "Alien"}, "Alien"), (None, None), ("N/A", None), ("", None), (True, None), (12.5, None),
    ("http://www.wikidata.org/entity/Q25188", None),
])
def test_title_values(value, title):
    assert parse_title(value) == title


@pytest.mark.parametrize("value, names", [
    ("Ridley Scott", ("Ridley Scott",)),
    ("Joel Coen, Ethan Coen", ("Joel Coen", "Ethan Coen")),
    ({"name": "Ridley Scott"}, ("Ridley Scott",)),
    ([{"name": "Lana Wachowski"}, {"name": "Lilly Wachowski"}], ("Lana Wachowski", "Lilly Wachowski")),
    (["Andrew Lau", "Alan Mak", "Andrew Lau"], ("Andrew Lau", "Alan Mak")),
    ([{"label": "Agnès Varda"}, "JR"], ("Agnès Varda", "JR")),
    ("nm0634240", ()), ("N/A", ()), (None, ()), (1200.0, ()),
])
def test_director_values(value, names):
    assert parse_directors(value) == names


@pytest.mark.parametrize("value, bare, imdb", [
    ("tt1375666", False, "tt1375666"), ("TT0133093", False, "tt0133093"),
    ("http://www.imdb.com/title/tt0499549/?ref_=fn_tt_tt_1", False, "tt0499549"),
    ("https://www.imdb.com/title/tt10872600/", False, "tt10872600"),
    ("114709", True, "tt0114709"), (114709, True, "tt0114709"), ("114709", False, None),
    ("0133093", True, None), ("tt123", False, None), ("N/A", False, None),
    ([{"type": "tmdb", "value": "603"}, {"type": "imdb", "value": "tt0133093"}], False, "tt0133093"),
    ({"trakt": 1, "imdb": "tt0133093", "tmdb": 603}, False, "tt0133093"),
])
def test_imdb_ids_bare_prefixed_zero_stripped_or_in_urls(value, bare, imdb):
    assert parse_imdb_id(value, bare_digits=bare) == imdb


@pytest.mark.parametrize("value, numbers, tmdb", [
    (603, True, 603), ("603", True, 603), (" 603 ", True, 603),
    ("https://www.themoviedb.org/movie/603-the-matrix", True, 603),
    ("https://www.themoviedb.org/movie/603-the-matrix", False, 603), (603, False, None),
    ([{"type": "tmdb", "value": "603"}], True, 603), ({"imdb": "tt1", "tmdb": 603}, True, 603),
    ("abc", True, None), (True, True, None), (0, True, None), ("https://boxd.it/2bcd", False, None),
])
def test_tmdb_ids_as_numbers_or_urls(value, numbers, tmdb):
    assert parse_tmdb_id(value, numbers=numbers) == tmdb


# --- Names --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("record, role, field", [
    ({"Title": "X"}, TITLE, "Title"), ({"Movie": "X"}, TITLE, "Movie"), ({"Film": "X"}, TITLE, "Film"),
    ({"Name": "X"}, TITLE, "Name"), ({"movie_title": "X"}, TITLE, "movie_title"),
    ({"primaryTitle": "X"}, TITLE, "primaryTitle"), ({"filmLabel": "X"}, TITLE, "filmLabel"),
    ({"Original Title": "X"}, ORIGINAL_TITLE, "Original Title"), ({"originaltitle": "X"}, ORIGINAL_TITLE, "originaltitle"),
    ({"Year": 2000}, YEAR, "Year"), ({"Release Date": "May 05 2000"}, YEAR, "Release Date"),
    ({"Released": "5 May 2000"}, YEAR, "Released"), ({"Release_Date": "2000"}, YEAR, "Release_Date"),
    ({"Date": "2000"}, YEAR, "Date"), ({"Premiere": "(2000)"}, YEAR, "Premiere"),
    ({"title_year": 2000.0}, YEAR, "title_year"), ({"startYear": "2000"}, YEAR, "startYear"),
    ({"release-year": 2000}, YEAR, "release-year"),
    ({"Director": "A B"}, DIRECTORS, "Director"), ({"Directors": ["A B"]}, DIRECTORS, "Directors"),
    ({"Directed By": "A B"}, DIRECTORS, "Directed By"), ({"director_name": "A B"}, DIRECTORS, "director_name"),
    ({"imdbID": "tt0133093"}, IMDB_ID, "imdbID"), ({"IMDb ID": "tt0133093"}, IMDB_ID, "IMDb ID"),
    ({"imdb_url": "https://www.imdb.com/title/tt0133093/"}, IMDB_ID, "imdb_url"),
    ({"ids": {"imdb": "tt0133093"}}, IMDB_ID, "ids.imdb"),
    ({"tmdb_id": 603}, TMDB_ID, "tmdb_id"), ({"TMDB ID": "603"}, TMDB_ID, "TMDB ID"),
    ({"url": "https://www.themoviedb.org/movie/603"}, TMDB_ID, "url"), ({"ids": {"tmdb": 603}}, TMDB_ID, "ids.tmdb"),
])
def test_each_role_found_under_the_names_tables_use(record, role, field):
    assert fields.DEFAULT_ROLES.value(role, record)[0] == field


@pytest.mark.parametrize("record, role", [
    ({"imdbRating": "8.5"}, IMDB_ID), ({"imdb_score": 7.5}, IMDB_ID), ({"director_facebook_likes": 1200}, DIRECTORS),
    ({"titleType": "movie"}, TITLE), ({"scraped_at": "2024-05-03T10:00:00Z"}, YEAR), ({"id": 3}, TMDB_ID),
    ({"movieId": 42}, TMDB_ID), ({"url": "https://example.org/x/42"}, TMDB_ID), ({"rating": 7.1}, YEAR),
    ({"tmdb": {"id": 603}}, TMDB_ID),  # our own block is not the user's field
])
def test_look_alike_names_take_no_role(record, role):
    assert fields.DEFAULT_ROLES.value(role, record) == (None, None)


def test_detection_picks_the_field_with_most_usable_values():
    records = [{"Title": f"F{i}", "Year": "N/A" if i % 3 else 2000 + i, "Release Date": f"May 05 {2000 + i}"}
               for i in range(30)]
    roles = detect_roles(records)
    assert roles.for_role(YEAR)[0] == "Release Date"
    report = {r.role: r for r in fields.roles_report(records, roles)}
    assert (report[YEAR].field, report[YEAR].usable, report[YEAR].records) == ("Release Date", 30, 30)
    assert "year: 'Release Date' (detected), usable in 30 of 30 records (100%)" == report[YEAR].line()


def test_a_specific_name_beats_a_generic_one_with_as_many_values():
    # Letterboxd: "Date" is when it was watched, "Year" the film's year.
    records = [{"Name": "Heat", "Year": 1995, "Date": "2024-01-15"} for _ in range(10)]
    assert detect_roles(records).for_role(YEAR)[0] == "Year"
    assert query_from_record("k", records[0], detect_roles(records)).year == 1995


def test_each_record_falls_back_on_its_own_fields():
    records = [{"Title": "A", "Year": 1999}] * 20 + [{"Film": "Heat", "Released": "15 Dec 1995"}]
    roles = detect_roles(records)
    query = query_from_record("Heat", records[-1], roles)
    assert (query.title, query.year) == ("Heat", 1995)


def test_field_option_wins_and_is_exclusive():
    records = [{"Title": "Heat", "Year": 1986, "Premiere": "1995-12-15"}]
    roles = detect_roles(records, {"year": "Premiere"})
    assert query_from_record("k", records[0], roles).year == 1995
    assert query_from_record("k", {"Title": "Heat", "Year": 1986}, roles).year is None  # no fallback
    nested = detect_roles([], {"tmdb_id": "ids.tmdb"})
    assert query_from_record("k", {"Title": "X", "ids": {"tmdb": "603"}}, nested).tmdb_id == 603


@pytest.mark.parametrize("values, mapping", [
    (["year=Release Date"], {"year": "Release Date"}),
    (["director=Directed By", "imdb=imdb_url"], {"directors": "Directed By", "imdb_id": "imdb_url"}),
    (["Original-Title = Originaltitel"], {"original_title": "Originaltitel"}),
])
def test_field_option_parsing(values, mapping):
    assert parse_field_option(values) == mapping


@pytest.mark.parametrize("value", ["yaer=Year", "year", "year=", "=Year"])
def test_field_option_errors_are_one_line(value):
    with pytest.raises(fields.FieldError) as error:
        parse_field_option([value])
    assert "\n" not in str(error.value) and "title, original_title, year" in str(error.value)


# --- Records ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("record, expected", [
    # OMDb
    ({"Title": "Inception", "Year": "2010", "Released": "16 Jul 2010", "Director": "Christopher Nolan",
      "imdbID": "tt1375666", "imdbRating": "8.8"}, ("Inception", 2010, ("Christopher Nolan",), "tt1375666", None)),
    # IMDb datasets
    ({"tconst": "tt1375666", "primaryTitle": "Inception", "originalTitle": "Inception", "startYear": "\\N",
      "directors": "nm0634240"}, ("Inception", None, (), "tt1375666", None)),
    # MovieLens
    ({"title": "American President, The (1995)", "imdbId": "112346", "tmdbId": "9087", "movieId": 11},
     ("The American President", 1995, (), "tt0112346", 9087)),
    # Kaggle IMDB 5000
    ({"movie_title": "Avatar\u00a0", "title_year": 2009.0, "director_name": "James Cameron",
      "movie_imdb_link": "http://www.imdb.com/title/tt0499549/?ref_=fn_tt_tt_1"},
     ("Avatar", 2009, ("James Cameron",), "tt0499549", None)),
    # Trakt
    ({"title": "Inception", "year": 2010, "ids": {"trakt": 16662, "slug": "inception-2010", "imdb": "tt1375666",
                                                  "tmdb": 27205}}, ("Inception", 2010, (), "tt1375666", 27205)),
    # Wikidata
    ({"filmLabel": "Inception", "publicationDate": ["2010-07-16T00:00:00Z", "2010-07-08T00:00:00Z"],
      "directorLabel": "Christopher Nolan", "film": "http://www.wikidata.org/entity/Q25188"},
     ("Inception", 2010, ("Christopher Nolan",), None, None)),
    # Kodi NFO
    ({"title": "Inception", "premiered": "2010-07-15", "director": [{"name": "Christopher Nolan"}],
      "uniqueid": [{"type": "tmdb", "value": "27205"}, {"type": "imdb", "value": "tt1375666"}]},
     ("Inception", 2010, ("Christopher Nolan",), "tt1375666", 27205)),
    # A scraped HTML table
    ({"Film": "Inception", "Release date": "July 16, 2010[3]", "Directed by": "Christopher Nolan"},
     ("Inception", 2010, ("Christopher Nolan",), None, None)),
    # Nested director object
    ({"Title": "Gladiator", "Release Date": "May 05 2000", "director": {"name": "Ridley Scott"}},
     ("Gladiator", 2000, ("Ridley Scott",), None, None)),
    # A TMDB URL
    ({"Title": "Gladiator", "tmdb_url": "https://www.themoviedb.org/movie/98-gladiator"},
     ("Gladiator", None, (), None, 98)),
])
def test_records_of_every_convention(record, expected):
    query = query_from_record("key", record, detect_roles([record]))
    assert (query.title, query.year, query.directors, query.imdb_id, query.tmdb_id) == expected


def test_number_titles_and_the_key_as_title():
    assert query_from_record("k", {"Title": 300, "Year": 2006}).title == "300"
    assert query_from_record("k", {"Title": 1917.0}).title == "1917"
    assert query_from_record("Gladiator (2000)", {"Year": 2000}).title == "Gladiator"
    with pytest.raises(InvalidRecord, match="Title is null"):
        query_from_record("Gladiator", {"Title": None, "Year": 2000})
    with pytest.raises(InvalidRecord, match="unknown"):
        query_from_record("k", {"Title": "N/A"})


def test_original_title_is_read():
    query = query_from_record("k", {"Title": "The Seventh Seal", "Original Title": "Det sjunde inseglet"})
    assert query.original_title == "Det sjunde inseglet"
    assert query_from_record("k", {"Title": "Heat", "original_title": "Heat"}).original_title is None


# --- Match inputs ---------------------------------------------------------------------------------------------


def test_match_inputs_change_with_what_the_match_depends_on_only():
    record = {"Title": "Gladiator", "Release Date": "May 05 2000", "Director": "Ridley Scott", "IMDB Rating": 8.5}
    digest = match_inputs(record)
    assert match_inputs(dict(record)) == digest
    assert match_inputs({**record, "IMDB Rating": 9.0, "notes": "x"}) == digest
    assert match_inputs({**record, "tmdb": {"id": 1}, "enrichment": {}}) == digest  # our own fields
    for change in ({"Release Date": "1992"}, {"Title": "Gladiator!"}, {"Director": "Rowdy Herrington"},
                   {"tmdb_id": 98}, {"imdb_id": "tt0172495"}):
        assert match_inputs({**record, **change}) != digest, change
    assert isinstance(digest, str) and len(digest) == 20
