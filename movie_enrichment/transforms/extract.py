"""Pure functions that turn TMDB response bodies into the output's `tmdb` and `images` blocks."""

import re
from typing import Any

CAST_LIMIT = 10
DEFAULT_IMAGE_BASE = "https://image.tmdb.org/t/p/"
# A TMDB file_path is a plain file name under the image root; anything else (a URL, "..", a query) is dropped.
_FILE_PATH = re.compile(r"/[A-Za-z0-9_-]+\.(?:jpg|jpeg|png|svg|webp)")
_SIZE = re.compile(r"(?:w\d{1,4}|h\d{1,4}|original)")


def _number(value: Any) -> float | int | None:
    """TMDB sends numbers, but some bodies carry them as strings: parse defensively."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            parsed = float(value)
        except ValueError:
            return None
        return int(parsed) if parsed.is_integer() and "." not in value else parsed
    return None


def _names(items: Any, field: str = "name") -> list[str]:
    return [item[field] for item in items or [] if isinstance(item, dict) and isinstance(item.get(field), str)]


def _year(release_date: Any) -> int | None:
    if isinstance(release_date, str) and re.match(r"^\d{4}", release_date):
        return int(release_date[:4])
    return None


def directors(details: dict) -> list[str]:
    crew = ((details.get("credits") or {}).get("crew")) or []
    return [person["name"] for person in crew
            if isinstance(person, dict) and person.get("job") == "Director" and isinstance(person.get("name"), str)]


def metadata_block(details: dict) -> dict:
    """The `tmdb` block of the output contract, from a details body with credits and external_ids appended."""
    credits = details.get("credits") or {}
    cast = sorted((c for c in credits.get("cast") or [] if isinstance(c, dict) and c.get("name")),
                  key=lambda c: _number(c.get("order")) if _number(c.get("order")) is not None else 1e9)
    imdb_id = details.get("imdb_id") or (details.get("external_ids") or {}).get("imdb_id")
    return {
        "id": details.get("id"),
        "imdb_id": imdb_id,
        "title": details.get("title"),
        "original_title": details.get("original_title"),
        "release_date": details.get("release_date") or None,
        "year": _year(details.get("release_date")),
        "overview": details.get("overview") or None,
        "tagline": details.get("tagline") or None,
        "runtime": _number(details.get("runtime")),
        "genres": _names(details.get("genres")),
        "original_language": details.get("original_language"),
        "vote_average": _number(details.get("vote_average")),
        "vote_count": _number(details.get("vote_count")),
        "popularity": _number(details.get("popularity")),
        "directors": directors(details),
        "cast": [{"name": c["name"], "character": c.get("character") or None} for c in cast[:CAST_LIMIT]],
        "production_countries": _names(details.get("production_countries")),
        "spoken_languages": _names(details.get("spoken_languages"), "english_name")
        or _names(details.get("spoken_languages")),
    }


def image_base(configuration: dict | None) -> str:
    """The secure image root from /configuration, if it is an https URL; TMDB's own root otherwise."""
    base = ((configuration or {}).get("images") or {}).get("secure_base_url")
    if isinstance(base, str) and re.fullmatch(r"https://[A-Za-z0-9.-]+(:\d+)?/[A-Za-z0-9/_-]*(\.[A-Za-z0-9_-]+)*/?",
                                              base) and "/../" not in base:
        return base if base.endswith("/") else base + "/"
    return DEFAULT_IMAGE_BASE


def image_url(base: str, size: str, file_path: Any) -> str | None:
    """secure_base_url + size + file_path, or None when the path is not a plain file name."""
    if not isinstance(file_path, str) or not _FILE_PATH.fullmatch(file_path) or not _SIZE.fullmatch(size):
        return None
    return f"{base}{size}{file_path}"


def images_block(details: dict, base: str, poster_size: str = "w500", backdrop_size: str = "w1280",
                 limit: int = 10) -> dict:
    """The `images` block: the primary poster and backdrop, and the alternates of an appended `images` part."""
    images = details.get("images") or {}

    def urls(kind: str, primary: Any, size: str) -> list[str]:
        paths = [primary] + [i.get("file_path") for i in images.get(kind) or [] if isinstance(i, dict)]
        found: list[str] = []
        for path in paths:
            url = image_url(base, size, path)
            if url and url not in found:
                found.append(url)
        return found[:limit]

    posters = urls("posters", details.get("poster_path"), poster_size)
    backdrops = urls("backdrops", details.get("backdrop_path"), backdrop_size)
    return {
        "poster": image_url(base, poster_size, details.get("poster_path")) or (posters[0] if posters else None),
        "backdrop": image_url(base, backdrop_size, details.get("backdrop_path"))
        or (backdrops[0] if backdrops else None),
        "posters": posters,
        "backdrops": backdrops,
    }


_KEEP = ("id", "imdb_id", "title", "original_title", "release_date", "overview", "tagline", "runtime", "genres",
         "original_language", "vote_average", "vote_count", "popularity", "production_countries",
         "spoken_languages", "poster_path", "backdrop_path", "external_ids")


def trim_details(details: dict) -> dict:
    """Keeps only what the blocks above read, so checkpoints and shuffles stay small."""
    kept = {k: details[k] for k in _KEEP if k in details}
    credits = details.get("credits") or {}
    if credits:
        cast = sorted((c for c in credits.get("cast") or [] if isinstance(c, dict) and c.get("name")),
                      key=lambda c: _number(c.get("order")) if _number(c.get("order")) is not None else 1e9)
        kept["credits"] = {
            "cast": [{k: c.get(k) for k in ("name", "character", "order")} for c in cast[:CAST_LIMIT]],
            # original_name too: matching checks a record's director against both.
            "crew": [{"name": c.get("name"), "original_name": c.get("original_name"), "job": "Director"}
                     for c in credits.get("crew") or [] if isinstance(c, dict) and c.get("job") == "Director"],
        }
    if "images" in details:
        images = details.get("images") or {}
        kept["images"] = {kind: [{"file_path": i.get("file_path")} for i in images.get(kind) or []
                                 if isinstance(i, dict) and isinstance(i.get("file_path"), str)
                                 and _FILE_PATH.fullmatch(i["file_path"])][:20]
                          for kind in ("posters", "backdrops")}
    return kept


# The HTTP cache keeps trimmed bodies under a key that names the trimming: change the tag with what is kept.
trim_details.cache_tag = "trim_details/2"

# poster_path: the review list shows each candidate's poster.
_SEARCH_KEEP = ("id", "title", "original_title", "release_date", "popularity", "vote_count", "original_language",
                "poster_path")


def trim_search(body: dict) -> dict:
    """Keeps what matching reads of a /search/movie answer, so the HTTP cache stays small."""
    results = body.get("results") if isinstance(body.get("results"), list) else []
    return {"results": [{k: r[k] for k in _SEARCH_KEEP if k in r} for r in results if isinstance(r, dict)],
            "total_results": body.get("total_results")}


trim_search.cache_tag = "trim_search/2"
