"""Movie tables in the shapes real scrapers and exports write (FIELD_CONVENTIONS), with their expected matches.

- `rename_sample(sample)`: the bundled sample in another table's field names and date formats, e.g.
  {"Title": ..., "Release Date": "May 05 2000", "Director": ...}.
- `shapes_corpus()`: the catalog's films (and a few more: remakes, same-title films, an article TMDB lacks)
  each written in one of several conventions (OMDb, IMDb datasets, MovieLens, Kaggle, Letterboxd, Trakt,
  Wikidata, Kodi, TMDB, a scraped HTML table), plus films the catalog lacks, number titles and a null title.
Everything is generated, so the tests and the benchmark figures come from the same data.
"""

from __future__ import annotations

import datetime
from typing import Any, Callable

from movie_enrichment.testing import catalog

NOT_FOUND, INVALID = catalog.NOT_FOUND, catalog.INVALID

# One year rendered in every date shape the matcher must read.
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
DATE_FORMATS: tuple[Callable[[int, int, int], Any], ...] = (
    lambda y, m, d: datetime.date(y, m, d).strftime("%b %d %Y"),      # "May 05 2000"
    lambda y, m, d: f"{d} {_MONTHS[m - 1]} {y}",                       # "5 May 2000"
    lambda y, m, d: f"{m:02d}/{d:02d}/{y}",                            # "05/05/2000"
    lambda y, m, d: datetime.date(y, m, d).isoformat(),                # "2000-05-05"
    lambda y, m, d: str(y),                                            # "2000"
    lambda y, m, d: f"({y})",                                          # "(2000)"
    lambda y, m, d: f"c. {y}",                                         # "c. 2000"
    lambda y, m, d: f"{_MONTHS[m - 1]} {d}, {y}[{d % 9 + 1}]",         # "May 5, 2000[6]" (Wikipedia)
    lambda y, m, d: f"{y}-{m:02d}-{d:02d}T00:00:00Z",                  # Wikidata
    lambda y, m, d: float(y),                                          # Kaggle's 2000.0
)

# Films added to the catalog for this corpus (remakes, same-title films, an article TMDB's title lacks), made by
# scripts/catalog_film.py like the catalog's own; and 25 films of one title, to fill more than a search page.
CORPUS_FILMS_FILE = "corpus_films.json"
FULL_PAGE_FILMS_FILE = "full_page_films.json"

# Films the catalog does not hold (look-alikes of its titles): expected not_found.
ABSENT = (("The Thing About Harry", 2000, "Peter Gerber"), ("Psycho Beach Party", 2000, "Robert Lee King"),
          ("Heat Lightning", 1934, "Mervyn LeRoy"), ("Alien Nation", 1988, "Graham Baker"),
          ("The Shining Hour", 1938, "Frank Borzage"), ("Vertigo Sea", 2015, "John Akomfrah"),
          ("Dune Riders", 2013, "Samir Haddad"), ("Gladiators of Rome", 2012, "Iginio Straffi"),
          ("Babe: Pig in the City", 1998, "George Miller"), ("Sicko Mode", 2019, "Dave Meyers"))


def full_catalog() -> list[dict]:
    """The bundled catalog plus the corpus's films, as full TMDB details bodies (for TmdbServer(catalog=...))."""
    return catalog.load(catalog.CATALOG_FILE) + catalog.load(CORPUS_FILMS_FILE)


def _date(release_date: str) -> tuple[int, int, int]:
    y, m, d = (int(part) for part in release_date.split("-"))
    return y, m, d


# --- The sample in another table's names ------------------------------------------------------------------


def rename_sample(sample: dict) -> dict:
    """The bundled sample as a scraped table writes it: "Title", "Release Date" (a date in one of the
    DATE_FORMATS, taken in turn), "Director" (text, a list of names or of objects), "IMDb URL", "TMDB ID";
    other fields as they are. Keys unchanged, so sample_expected.json still answers for each record."""
    renamed = {}
    for i, (key, record) in enumerate(sample.items()):
        if not isinstance(record, dict):
            renamed[key] = record
            continue
        out: dict[str, Any] = {}
        for name, value in record.items():
            if name == "title":
                out["Title"] = value
            elif name == "year":
                year = catalog_year(value)
                out["Release Date"] = DATE_FORMATS[i % len(DATE_FORMATS)](year, 5, 5) if year else value
            elif name == "director":
                out["Director"] = ([{"name": n} for n in value] if isinstance(value, list) and i % 2 else value)
            elif name == "imdb_id":
                out["IMDb URL"] = f"https://www.imdb.com/title/{value}/"
            elif name == "tmdb_id":
                out["TMDB ID"] = value
            else:
                out[name] = value
        renamed[key] = out
    return renamed


def catalog_year(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) == 4:
        return int(value.strip())
    return None


# --- A corpus of shapes ------------------------------------------------------------------------------------


def _omdb(f: dict, i: int) -> dict:
    y, m, d = _date(f["release_date"])
    return {"Title": f["title"], "Year": str(y), "Released": datetime.date(y, m, d).strftime("%d %b %Y"),
            "Director": ", ".join(f["directors"]), "imdbRating": "7.9", "Response": "True"}


def _imdb_dataset(f: dict, i: int) -> dict:
    y, _, _ = _date(f["release_date"])
    return {"tconst": f["imdb_id"], "primaryTitle": f["title"], "originalTitle": f["original_title"],
            "startYear": str(y), "directors": "nm0000001", "titleType": "movie"}


def _movielens(f: dict, i: int) -> dict:
    y, _, _ = _date(f["release_date"])
    title = f["title"]
    for article in ("The ", "A "):
        if title.startswith(article) and len(title.split()) > 1:
            title = f"{title[len(article):]}, {article.strip()}"
    return {"title": f"{title} ({y})", "genres": "Drama|Comedy", "movieId": 100 + i}


def _kaggle(f: dict, i: int) -> dict:
    y, _, _ = _date(f["release_date"])
    return {"movie_title": f["title"] + "\u00a0", "title_year": float(y), "director_name": f["directors"][0],
            "movie_imdb_link": f"http://www.imdb.com/title/{f['imdb_id']}/?ref_=fn_tt_tt_1",
            "director_facebook_likes": 1200.0, "imdb_score": 7.5}


def _letterboxd(f: dict, i: int) -> dict:
    y, _, _ = _date(f["release_date"])
    return {"Date": "2024-01-15", "Name": f["title"], "Year": y,
            "Letterboxd URI": f"https://boxd.it/{i:04x}"}


def _trakt(f: dict, i: int) -> dict:
    y, _, _ = _date(f["release_date"])
    return {"title": f["title"], "year": y, "ids": {"trakt": 5000 + i, "slug": "x", "imdb": f["imdb_id"]}}


def _wikidata(f: dict, i: int) -> dict:
    y, m, d = _date(f["release_date"])
    return {"filmLabel": f["title"], "publicationDate": [DATE_FORMATS[8](y, m, d), DATE_FORMATS[8](y + 1, 1, 2)],
            "directorLabel": f["directors"][0], "film": f"http://www.wikidata.org/entity/Q{1000 + i}"}


def _kodi(f: dict, i: int) -> dict:
    y, m, d = _date(f["release_date"])
    return {"title": f["title"], "originaltitle": f["original_title"], "premiered": f"{y}-{m:02d}-{d:02d}",
            "director": [{"name": n} for n in f["directors"]],
            "uniqueid": [{"type": "imdb", "value": f["imdb_id"]}]}


def _scraped_html(f: dict, i: int) -> dict:
    y, m, d = _date(f["release_date"])
    return {"Film": f["title"], "Release date": DATE_FORMATS[i % 8](y, m, d), "Directed by": " and ".join(
        f["directors"]), "Notes": "TBA"}


def _gladiator_table(f: dict, i: int) -> dict:
    y, m, d = _date(f["release_date"])
    return {"Title": f["title"], "Release Date": datetime.date(y, m, d).strftime("%b %d %Y"),
            "Director": f["directors"][0], "IMDB Rating": 7.1}


# Conventions that name no id: the title search does the work (ids would make it trivial).
_BY_TITLE = (_omdb, _movielens, _letterboxd, _wikidata, _scraped_html, _gladiator_table)
_WITH_ID = (_imdb_dataset, _kaggle, _trakt, _kodi)


def _film(body: dict) -> dict:
    directors = tuple(m["name"] for m in body["credits"]["crew"] if m.get("job") == "Director")
    return {"id": body["id"], "imdb_id": body["imdb_id"], "title": body["title"],
            "original_title": body["original_title"], "release_date": body["release_date"], "directors": directors}


def shapes_corpus(id_share: int = 5) -> tuple[dict, dict]:
    """(table keyed by title, expected answer per key). One film in `id_share` comes with an id."""
    films = [_film(body) for body in full_catalog()]
    titles = [f["title"] for f in films]
    table: dict[str, Any] = {}
    expected: dict[str, Any] = {}

    def add(key: str, record: Any, answer: Any) -> None:
        if key in table:
            key = f"{key} ({len(table)})"
        table[key], expected[key] = record, answer

    for i, film in enumerate(films):
        shared = titles.count(film["title"]) > 1
        if i % id_share == 0:
            shape = _WITH_ID[i % len(_WITH_ID)]
        else:  # films sharing a title come from a table that names the director, as the table does
            shape = _gladiator_table if shared else _BY_TITLE[i % len(_BY_TITLE)]
        record = shape(film, i)
        key = f"{film['title']} ({film['release_date'][:4]})" if shared else film["title"]
        if film["title"].isdigit():  # a JSON number as the title, as spreadsheets export "1917" or "300"
            record = {"Title": int(film["title"]), "Year": int(film["release_date"][:4]),
                      "Director": film["directors"][0]}
        elif film["id"] == 910004:  # scraped with an article TMDB's title lacks
            record = {"Title": "The Martian Child", "Release Date": "Nov 02 2007", "Director": "Menno Meyjes"}
            key = "The Martian Child"
        elif i % 37 == 5 and not shared:  # no title field at all: the key is the title
            record = {"Year": int(film["release_date"][:4]), "Director": film["directors"][0]}
        add(key, record, film["id"])
    for title, year, director in ABSENT:
        add(title, {"Title": title, "Year": year, "Director": director}, NOT_FOUND)
    add("Untitled", {"Title": None, "Year": 2001}, INVALID)
    add("Blank", {"Title": "N/A", "Year": 2003}, INVALID)
    return table, expected


def score_output(after: dict, expected: dict) -> tuple[list, list]:
    """(wrong, missed) of an enriched database against the expected answers: (key, expected, got) each; a movie
    left ambiguous or not found that should have matched is missed, any other difference is wrong."""
    wrong, missed = [], []
    for key, want in expected.items():
        status = after[key]["enrichment"]["metadata"]["status"]
        got = after[key]["tmdb"]["id"] if status == "ok" else status
        if got != want:
            (missed if status in ("not_found", "ambiguous") else wrong).append((key, want, got))
    return wrong, missed
