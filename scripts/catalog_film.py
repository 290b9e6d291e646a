"""Makes the TMDB-like bodies of the bundled test catalog (movie_enrichment/testing/data/catalog.json).

catalog.json is the source of the catalog; this script only spares writing a body by hand. It derives every
field a test does not care about (overview, vote figures, person ids, image file names) from a short
description, deterministically, so the bodies look alike and a test can check that they still do.

    python scripts/catalog_film.py add FILMS.json   # add (or replace, by id) the films described in FILMS.json
    python scripts/catalog_film.py check            # every body is what this script makes of its own fields

FILMS.json is a list of objects such as
    {"id": 539, "imdb_id": "tt0054215", "title": "Psycho", "original_title": null, "original_language": "en",
     "release_date": "1960-06-22", "runtime": 109, "directors": ["Alfred Hitchcock"],
     "genres": ["Horror", "Thriller"], "cast": [["Anthony Perkins", "Norman Bates"]],
     "production_countries": ["US"], "popularity": 30.5}
(original_title null: the same as title; imdb_id null: an invented "tt9..." id derived from the TMDB id; ids
of 900001 and above are invented too). The sample database and its expected matches (sample_movies.json,
sample_expected.json beside it) are plain data: edit them directly.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from movie_enrichment.testing import catalog  # noqa: E402  (the data's location and its text format)

FIELDS = ("id", "imdb_id", "title", "original_title", "original_language", "release_date", "runtime", "directors",
          "genres", "cast", "production_countries", "popularity")

GENRE_IDS = {
    "Action": 28, "Adventure": 12, "Animation": 16, "Comedy": 35, "Crime": 80, "Documentary": 99, "Drama": 18,
    "Family": 10751, "Fantasy": 14, "History": 36, "Horror": 27, "Music": 10402, "Mystery": 9648,
    "Romance": 10749, "Science Fiction": 878, "Thriller": 53, "TV Movie": 10770, "War": 10752, "Western": 37,
}
COUNTRIES = {
    "AU": "Australia", "BE": "Belgium", "CA": "Canada", "CN": "China", "CZ": "Czech Republic", "DE": "Germany",
    "ES": "Spain", "FR": "France", "GB": "United Kingdom", "HK": "Hong Kong", "IT": "Italy", "JP": "Japan",
    "KR": "South Korea", "MX": "Mexico", "NL": "Netherlands", "NZ": "New Zealand", "SE": "Sweden",
    "SU": "Soviet Union", "TW": "Taiwan", "US": "United States of America",
}
# iso_639_1 -> (english_name, native name), as TMDB spells them ("cn" is TMDB's code for Cantonese).
LANGUAGES = {
    "cn": ("Cantonese", "广州话 / 廣州話"), "de": ("German", "Deutsch"), "en": ("English", "English"),
    "es": ("Spanish", "Español"), "fr": ("French", "Français"), "it": ("Italian", "Italiano"),
    "ja": ("Japanese", "日本語"), "ko": ("Korean", "한국어/조선말"), "ru": ("Russian", "Русский"),
    "sv": ("Swedish", "svenska"), "zh": ("Mandarin", "普通话"),
}


# --- Derived fields ---------------------------------------------------------------------------------

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest(), "big")


def _image_path(kind: str, tmdb_id: int, n: int) -> str:
    """'/' + 27 base62 characters + '.jpg', fixed by (kind, id, n) like a TMDB image file name."""
    value, chars = _hash(f"{kind}:{tmdb_id}:{n}"), []
    while len(chars) < 27:
        value, digit = divmod(value, 62)
        chars.append(_BASE62[digit])
    return "/" + "".join(chars) + ".jpg"


def _person_id(name: str) -> int:
    return 1_000_000 + _hash(f"person:{name}") % 4_000_000


def _imdb_id(tmdb_id: int, imdb_id: str | None) -> str:
    return imdb_id if imdb_id is not None else f"tt9{tmdb_id:07d}"


def _overview(title: str, year: str, genres: tuple[str, ...], directors: tuple[str, ...],
              cast: tuple[tuple[str, str], ...]) -> str:
    kind = genres[0].lower() if genres[0] != "TV Movie" else "television"
    text = f"{title} is a {year} {kind} film directed by {' and '.join(directors)}."
    if cast:
        names = [name for name, _ in cast[:2]]
        text += f" It stars {' and '.join(names)}."
    return text


def _images(tmdb_id: int, kind: str, count: int) -> list[dict]:
    items = []
    for n in range(count):
        item = {"aspect_ratio": 0.667, "file_path": _image_path(kind, tmdb_id, n), "height": 3000,
                "iso_639_1": "en", "vote_average": round(5.6 - 0.4 * n, 3), "vote_count": 12 - 3 * n, "width": 2000}
        if kind == "backdrop":
            item.update(aspect_ratio=1.778, height=2160, iso_639_1=None, width=3840)
        items.append(item)
    return items


def details_body(row: tuple) -> dict:
    """A TMDB /movie/{id} body with credits, images and external_ids appended."""
    (tmdb_id, imdb_id, title, original_title, language, release_date, runtime, directors, genres, cast,
     countries, popularity) = row
    imdb_id = _imdb_id(tmdb_id, imdb_id)
    h = _hash(f"votes:{tmdb_id}")
    spoken = [language] + (["en"] if language != "en" and ("US" in countries or "GB" in countries) else [])
    return {
        "id": tmdb_id,
        "imdb_id": imdb_id,
        "title": title,
        "original_title": original_title if original_title is not None else title,
        "original_language": language,
        "release_date": release_date,
        "overview": _overview(title, release_date[:4], genres, directors, cast),
        "tagline": "",
        "runtime": runtime,
        "genres": [{"id": GENRE_IDS[g], "name": g} for g in genres],
        "popularity": float(popularity),
        "vote_average": round(5.8 + (h % 250) / 100, 1),
        "vote_count": int(popularity * 230) + h % 500,
        "poster_path": _image_path("poster", tmdb_id, 0),
        "backdrop_path": _image_path("backdrop", tmdb_id, 0),
        "production_countries": [{"iso_3166_1": c, "name": COUNTRIES[c]} for c in countries],
        "spoken_languages": [{"english_name": LANGUAGES[code][0], "iso_639_1": code, "name": LANGUAGES[code][1]}
                             for code in spoken],
        "adult": False,
        "video": False,
        "status": "Released",
        "credits": {
            "cast": [{"id": _person_id(name), "name": name, "character": character, "order": order}
                     for order, (name, character) in enumerate(cast)],
            "crew": [{"id": _person_id(name), "name": name, "job": "Director", "department": "Directing"}
                     for name in directors],
        },
        "images": {
            "posters": _images(tmdb_id, "poster", 2 + h % 2),
            "backdrops": _images(tmdb_id, "backdrop", 1 + (h >> 8) % 3),
            "logos": [],
        },
        "external_ids": {"imdb_id": imdb_id, "wikidata_id": None, "facebook_id": None, "instagram_id": None,
                         "twitter_id": None},
    }



def row_of(film: dict) -> tuple:
    """The description a body was made from: (id, imdb_id, title, ..., popularity), the order of FIELDS."""
    return (film["id"], film["imdb_id"], film["title"], film["original_title"], film["original_language"],
            film["release_date"], film["runtime"],
            tuple(c["name"] for c in film["credits"]["crew"] if c["job"] == "Director"),
            tuple(g["name"] for g in film["genres"]),
            tuple((c["name"], c["character"]) for c in film["credits"]["cast"]),
            tuple(c["iso_3166_1"] for c in film["production_countries"]), film["popularity"])


def _row(description: dict) -> tuple:
    unknown = set(description) - set(FIELDS)
    if unknown:
        raise SystemExit(f"catalog_film: unknown fields {sorted(unknown)} in {description.get('title')!r}")
    values = dict(description)
    for name in ("directors", "genres", "production_countries"):
        values[name] = tuple(values.get(name) or ())
    values["cast"] = tuple((name, character) for name, character in values.get("cast") or ())
    values.setdefault("imdb_id", None)
    values.setdefault("original_title", None)
    return tuple(values[name] for name in FIELDS)


def mismatches(films: list[dict]) -> list[int]:
    """The ids of the bodies that differ from what details_body makes of their own fields."""
    return [film["id"] for film in films if details_body(row_of(film)) != film]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--catalog", type=Path, default=catalog.DATA_DIR / catalog.CATALOG_FILE)
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="add or replace (by id) the films described in a JSON file")
    add.add_argument("films", type=Path)
    commands.add_parser("check", help="every body is what this script makes of its own fields")
    args = parser.parse_args(argv)
    films = json.loads(args.catalog.read_text(encoding="utf-8"))
    if args.command == "check":
        wrong = mismatches(films)
        if wrong:
            print(f"catalog_film: {len(wrong)} bodies differ from their description: ids {wrong}", file=sys.stderr)
            return 1
        print(f"{args.catalog}: {len(films)} films, each as this script makes it")
        return 0
    bodies = [details_body(_row(d)) for d in json.loads(args.films.read_text(encoding="utf-8"))]
    by_id = {body["id"]: body for body in bodies}
    replaced = [film["id"] for film in films if film["id"] in by_id]
    films = [by_id.pop(film["id"], film) for film in films] + list(by_id.values())  # in place, new ones last
    args.catalog.write_text(catalog.render(films), encoding="utf-8")
    print(f"{args.catalog}: {len(bodies) - len(replaced)} films added, {len(replaced)} replaced, {len(films)} in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
