"""Synthetic catalogs and databases of any size, for load, fault and crash tests and the benchmarks."""

import orjson

_WORDS = ("Larkspur", "Meridian", "Cobalt", "Juniper", "Halcyon", "Quarry", "Saffron", "Tundra", "Vesper",
          "Wren", "Zephyr", "Basalt", "Cinder", "Dahlia", "Ember", "Fjord")


def title(i: int, prefix: str = "Synthetic Film") -> str:
    return f"{prefix} {i:05d} {_WORDS[i % len(_WORDS)]}"


def catalog(count: int, prefix: str = "Synthetic Film", first_id: int = 700000) -> list[dict]:
    """TMDB detail bodies (credits, images, external_ids embedded) for `count` distinct films."""
    films = []
    for i in range(count):
        imdb_id = f"tt9{i:07d}"
        films.append({
            "id": first_id + i, "imdb_id": imdb_id, "title": title(i, prefix), "original_title": title(i, prefix),
            "original_language": "en", "release_date": f"{1950 + i % 70}-05-01", "overview": "A film.",
            "tagline": "", "runtime": 90 + i % 60, "genres": [{"id": 18, "name": "Drama"}],
            "popularity": 1.0 + i % 7, "vote_average": 7.0, "vote_count": 10,
            "poster_path": f"/p{first_id + i}.jpg", "backdrop_path": f"/b{first_id + i}.jpg",
            "production_countries": [{"iso_3166_1": "FR", "name": "France"}],
            "spoken_languages": [{"english_name": "French", "iso_639_1": "fr", "name": "Français"}],
            "adult": False, "video": False, "status": "Released",
            "credits": {"cast": [{"id": 1, "name": "Someone", "character": "Lead", "order": 0}],
                        "crew": [{"id": 2, "name": director(i), "job": "Director", "department": "Directing"}]},
            "images": {"posters": [{"file_path": f"/p{first_id + i}.jpg"}],
                       "backdrops": [{"file_path": f"/b{first_id + i}.jpg"}], "logos": []},
            "external_ids": {"imdb_id": imdb_id},
        })
    return films


def director(i: int) -> str:
    return f"Director {i % 97:02d}"


def database(count: int, prefix: str = "Synthetic Film", padding: int = 0, enriched_every: int = 0) -> bytes:
    """A database keyed by title matching `catalog(count)`. With `enriched_every=n`, all movies but every n-th
    already carry a successful enrichment, so a default run enriches only 1/n of them."""
    records = {}
    for i in range(count):
        record = {"title": title(i, prefix), "year": 1950 + i % 70, "director": director(i),
                  "url": f"https://example.org/films/{i}"}
        if padding:
            record["notes"] = "x" * padding
        if enriched_every and i % enriched_every:
            stamp = "2026-01-01T00:00:00Z"
            record["tmdb"] = {"id": 700000 + i}
            record["enrichment"] = {"metadata": {"status": "ok", "updated_at": stamp},
                                    "images": {"status": "ok", "updated_at": stamp}}
        records[title(i, prefix)] = record
    return orjson.dumps(records, option=orjson.OPT_INDENT_2)
