"""Synthetic, deterministic data: a TMDB catalog for the local server and movie databases that match it.

Movie number i always has the same title ("Synthetic Film 00042 Larkspur"), year, director, cast and images,
so a catalog and a database made separately agree, and every run of the suite sees the same data.
"""

from __future__ import annotations

import datetime
import pathlib
import random
from typing import Iterable

import orjson

from movie_enrichment.transforms import extract

WORDS = ("Larkspur", "Meridian", "Quarry", "Halcyon", "Bramble", "Cinder", "Harbor", "Juniper", "Lantern",
         "Marrow", "Nettle", "Orchard", "Pylon", "Quill", "Rampart", "Saffron", "Thistle", "Umber", "Vellum",
         "Willow", "Yarrow", "Zephyr", "Anvil", "Basalt", "Cobalt", "Dusk", "Ember", "Fathom", "Garnet",
         "Heron", "Indigo", "Jasper", "Kestrel", "Lichen", "Mosaic", "Nimbus", "Onyx", "Pewter", "Quartz",
         "Russet", "Sable", "Tundra")
FIRST = ("Ada", "Bruno", "Clara", "Dmitri", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kiri", "Luca",
         "Mona", "Nils", "Olga", "Pavel", "Rosa", "Sami", "Tove", "Umar", "Vera", "Wim", "Yara", "Zeno")
LAST = ("Abara", "Berglund", "Castell", "Dufresne", "Eriksen", "Fontaine", "Galloway", "Haddad", "Ilves",
        "Jovanovic", "Kowalski", "Lindqvist", "Moreau", "Novak", "Okafor", "Petrov", "Quintero", "Rasmussen",
        "Silva", "Tanaka", "Urbanek", "Valdez", "Whitfield", "Yilmaz", "Zimmer")
GENRES = ((18, "Drama"), (35, "Comedy"), (53, "Thriller"), (878, "Science Fiction"), (27, "Horror"),
          (10749, "Romance"), (16, "Animation"), (99, "Documentary"))
COUNTRIES = (("US", "United States of America"), ("FR", "France"), ("DE", "Germany"), ("JP", "Japan"),
             ("GB", "United Kingdom"), ("SE", "Sweden"))
LANGUAGES = (("en", "English"), ("fr", "French"), ("de", "German"), ("ja", "Japanese"), ("sv", "Swedish"))
ENRICHED_AT = "2026-01-15T10:00:00Z"
IMAGE_BASE = "https://image.tmdb.org/t/p/"  # what the local server's /configuration answers


def title(i: int) -> str:
    return f"Synthetic Film {i:05d} {WORDS[i % len(WORDS)]}"


def tmdb_id(i: int) -> int:
    return 100_000 + i


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def details(i: int) -> dict:
    """The full TMDB details body of movie i, as /movie/{id}?append_to_response=credits,external_ids,images."""
    rng = random.Random(i)
    year = 1950 + i % 75
    date = datetime.date(year, 1 + i % 12, 1 + i % 28).isoformat()
    director = _person(rng)
    genres = rng.sample(GENRES, 2)
    country = rng.choice(COUNTRIES)
    language = rng.choice(LANGUAGES)
    imdb = f"tt{9_000_000 + i:07d}"
    cast = [{"id": 1_000_000 + 10 * i + n, "name": _person(rng), "character": f"Role {n + 1}", "order": n,
             "known_for_department": "Acting"} for n in range(4)]
    crew = [{"id": 2_000_000 + i, "name": director, "job": "Director", "department": "Directing"},
            {"id": 3_000_000 + i, "name": _person(rng), "job": "Screenplay", "department": "Writing"}]
    posters = [{"file_path": f"/p{i:05d}{c}.jpg", "width": 500, "height": 750, "iso_639_1": "en",
                "vote_average": 5.0} for c in "ab"]
    backdrops = [{"file_path": f"/b{i:05d}{c}.jpg", "width": 1280, "height": 720, "iso_639_1": None,
                  "vote_average": 5.0} for c in "ab"]
    return {
        "adult": False, "video": False, "id": tmdb_id(i), "imdb_id": imdb, "title": title(i),
        "original_title": title(i), "original_language": language[0], "release_date": date,
        "overview": f"A synthetic story number {i} about {WORDS[(i * 7) % len(WORDS)].lower()} and "
                    f"{WORDS[(i * 11) % len(WORDS)].lower()}, made for benchmarks.",
        "tagline": f"Tagline {i}.", "runtime": 80 + i % 70, "status": "Released",
        "genres": [{"id": g, "name": n} for g, n in genres],
        "popularity": round(1.0 + (i * 37 % 1000) / 10.0, 3), "vote_average": round(5 + (i % 50) / 10.0, 1),
        "vote_count": 10 + i % 5000, "poster_path": posters[0]["file_path"],
        "backdrop_path": backdrops[0]["file_path"],
        "production_countries": [{"iso_3166_1": country[0], "name": country[1]}],
        "spoken_languages": [{"english_name": language[1], "iso_639_1": language[0], "name": language[1]}],
        "credits": {"cast": cast, "crew": crew},
        "images": {"posters": posters, "backdrops": backdrops, "logos": []},
        "external_ids": {"imdb_id": imdb, "wikidata_id": None, "facebook_id": None, "instagram_id": None,
                         "twitter_id": None},
    }


def record(i: int, enriched: bool = False, known_id: bool = False) -> dict:
    """The user's record of movie i; `enriched` adds the blocks and statuses of an earlier run."""
    body = details(i)
    rng = random.Random(-i - 1)
    director = next(c["name"] for c in body["credits"]["crew"] if c["job"] == "Director")
    rec = {"title": title(i), "year": int(body["release_date"][:4]), "director": director,
           "rating": rng.randint(1, 10), "watched": bool(i % 3), "notes": f"note {i}"}
    if known_id:
        rec["tmdb_id"] = tmdb_id(i)
    if enriched:
        rec["tmdb"] = extract.metadata_block(body)
        rec["images"] = extract.images_block(body, IMAGE_BASE)
        rec["enrichment"] = {
            "metadata": {"status": "ok", "updated_at": ENRICHED_AT, "error": None, "match_score": 1.0},
            "images": {"status": "ok", "updated_at": ENRICHED_AT, "error": None}}
    return rec


def pending_indexes(size: int, pending: int) -> list[int]:
    """`pending` movies spread evenly over a database of `size`."""
    if pending >= size:
        return list(range(size))
    step = size / pending
    return [int(k * step) for k in range(pending)]


def database(size: int, pending: Iterable[int], known_id: bool = False) -> dict:
    todo = set(pending)
    return {title(i): record(i, enriched=i not in todo, known_id=known_id) for i in range(size)}


def write_json(path: pathlib.Path, value, indent: bool = True) -> int:
    data = orjson.dumps(value, option=orjson.OPT_INDENT_2 if indent else 0) + b"\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return len(data)


def make(folder: pathlib.Path, size: int, pending: int, known_id: bool = False) -> dict:
    """Writes catalog.json (the pending movies' TMDB bodies) and movies.json; returns what it made."""
    indexes = pending_indexes(size, pending)
    catalog_bytes = write_json(folder / "catalog.json", [details(i) for i in indexes], indent=False)
    db_bytes = write_json(folder / "movies.json", database(size, indexes, known_id))
    return {"catalog": folder / "catalog.json", "db": folder / "movies.json", "size": size,
            "pending": len(indexes), "db_bytes": db_bytes, "catalog_bytes": catalog_bytes}
