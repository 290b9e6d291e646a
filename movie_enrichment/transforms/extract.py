"""Pure functions that turn TMDB response bodies into the output's `tmdb` and `images` blocks."""

import re
import urllib.parse
from typing import Any

CAST_LIMIT = 10
DEFAULT_IMAGE_BASE = "https://image.tmdb.org/t/p/"
LOGO_SIZE = "w500"
IMAGES_PER_LANGUAGE = 10  # what the cache keeps of each language's images of a kind: the lists' length
TEXT_FIELDS = ("title", "overview", "tagline")
THEATRICAL = 3  # TMDB's release type of a (wide) theatrical release
# A trailer's page, by the video host TMDB names; a key is a plain id (YouTube's 11 characters, Vimeo's digits).
TRAILER_URLS = {"YouTube": "https://www.youtube.com/watch?v={}", "Vimeo": "https://vimeo.com/{}"}
_VIDEO_KEY = re.compile(r"[A-Za-z0-9_-]{1,40}")
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


def metadata_block(details: dict, languages: tuple[str, ...] = (), countries: tuple[str, ...] = ("US",),
                   image_base: str = DEFAULT_IMAGE_BASE, poster_size: str = "w500",
                   backdrop_size: str = "w1280") -> dict:
    """The `tmdb` block of the output contract, from a details body with its parts appended (`DETAILS_PARTS`).

    Args:
        details: the (trimmed) details body.
        languages: the `--language` chain: `title`, `overview` and `tagline` come from the first of its
            translations that has the field, and `text_languages` says which; () keeps the body's own texts.
        countries: `--certification_countries`, for `certification`.
        image_base, poster_size, backdrop_size: for the collection's poster and backdrop.
    """
    credits = details.get("credits") or {}
    cast = sorted((c for c in credits.get("cast") or [] if isinstance(c, dict) and c.get("name")),
                  key=lambda c: _number(c.get("order")) if _number(c.get("order")) is not None else 1e9)
    imdb_id = details.get("imdb_id") or (details.get("external_ids") or {}).get("imdb_id")
    block = {
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
    if languages:
        values, sources = texts(details, languages)
        block.update(values)
        block["text_languages"] = sources
    block.update({
        "certification": certification(details, countries),
        "trailer": trailer(details, languages),
        "collection": collection(details, image_base, poster_size, backdrop_size),
        "keywords": _names((details.get("keywords") or {}).get("keywords")),
        "external_ids": external_ids(details),
    })
    return block


def _translation(details: dict, language: str) -> dict:
    """The translation's texts for a chain's language: `de-DE` is German as written for Germany; `de` is the
    first German translation TMDB lists, whatever its country."""
    code, _, country = language.partition("-")
    for item in (details.get("translations") or {}).get("translations") or []:
        if isinstance(item, dict) and item.get("iso_639_1") == code and (
                not country or item.get("iso_3166_1") == country) and isinstance(item.get("data"), dict):
            return item["data"]
    return {}


def texts(details: dict, languages: tuple[str, ...]) -> tuple[dict, dict]:
    """`title`, `overview` and `tagline`, each from the first language of the chain whose translation has it,
    and the language each came from (None: no language of the chain has it). A title none has is the body's
    own (TMDB's default title, as TMDB answers a `language` without one); the other fields are then None."""
    found: dict[str, Any] = {}
    sources: dict[str, str | None] = {}
    for field in TEXT_FIELDS:
        found[field], sources[field] = None, None
        for language in languages:
            value = _translation(details, language).get(field)
            if isinstance(value, str) and value.strip():
                found[field], sources[field] = value, language
                break
    if found["title"] is None:
        found["title"] = details.get("title")
    return found, sources


def certification(details: dict, countries: tuple[str, ...]) -> dict | None:
    """{"country", "rating"} of the first country with a certification: its theatrical release's, else that of
    any of its releases (TMDB's order); None when no country of the list has one."""
    by_country = {item.get("iso_3166_1"): item.get("release_dates") or []
                  for item in (details.get("release_dates") or {}).get("results") or [] if isinstance(item, dict)}
    for country in countries:
        rated = [r for r in by_country.get(country) or []
                 if isinstance(r, dict) and isinstance(r.get("certification"), str) and r["certification"].strip()]
        if rated:
            best = min(rated, key=lambda r: r.get("type") != THEATRICAL)  # min keeps TMDB's order among equals
            return {"country": country, "rating": best["certification"].strip()}
    return None


def _video_languages(languages: tuple[str, ...]) -> dict[str, int]:
    codes = [language.partition("-")[0] for language in languages] + ["en"]
    return {code: rank for rank, code in enumerate(dict.fromkeys(codes))}


def trailer(details: dict, languages: tuple[str, ...] = ()) -> dict | None:
    """The film's trailer: the first official `Trailer` in the chain's languages, then in English, then any
    trailer (official ones first, each group in that order of languages, then TMDB's); None when it has none."""
    ranks = _video_languages(languages)
    trailers = [v for v in (details.get("videos") or {}).get("results") or [] if _is_trailer(v)]
    if not trailers:
        return None
    best = min(trailers, key=lambda v: (not (v.get("official") is True and v.get("iso_639_1") in ranks),
                                        ranks.get(v.get("iso_639_1"), len(ranks)), v.get("official") is not True))
    return {"site": best["site"], "key": best["key"], "url": TRAILER_URLS[best["site"]].format(best["key"]),
            "language": best.get("iso_639_1") or None}


def _is_trailer(video: Any) -> bool:
    return (isinstance(video, dict) and video.get("type") == "Trailer" and video.get("site") in TRAILER_URLS
            and isinstance(video.get("key"), str) and _VIDEO_KEY.fullmatch(video["key"]) is not None)


def collection(details: dict, base: str = DEFAULT_IMAGE_BASE, poster_size: str = "w500",
               backdrop_size: str = "w1280") -> dict | None:
    """{"id", "name", "poster", "backdrop"} of the collection the film belongs to, or None."""
    found = details.get("belongs_to_collection")
    if not isinstance(found, dict) or not isinstance(found.get("id"), int):
        return None
    return {"id": found["id"], "name": found.get("name") if isinstance(found.get("name"), str) else None,
            "poster": image_url(base, poster_size, found.get("poster_path")),
            "backdrop": image_url(base, backdrop_size, found.get("backdrop_path"))}


def external_ids(details: dict) -> dict:
    """The film's ids elsewhere, as TMDB lists them (imdb_id, wikidata_id, facebook_id, instagram_id, twitter_id):
    each a string, or None where TMDB has none."""
    ids = details.get("external_ids") if isinstance(details.get("external_ids"), dict) else {}
    return {name: value.strip() if isinstance(value, str) and value.strip() else None
            for name, value in ids.items() if name.endswith("_id") and name != "id"}


def image_base(configuration: dict | None) -> str:
    """The secure image root from /configuration, if it is an https URL; TMDB's own root otherwise."""
    base = ((configuration or {}).get("images") or {}).get("secure_base_url")
    if isinstance(base, str) and re.fullmatch(r"https://[A-Za-z0-9.-]+(:\d+)?/[A-Za-z0-9/_-]*(\.[A-Za-z0-9_-]+)*/?",
                                              base) and "/../" not in base:
        return base if base.endswith("/") else base + "/"
    return DEFAULT_IMAGE_BASE


_HTTP_ROOT = re.compile(r"http://[A-Za-z0-9.-]+(:\d+)?/[A-Za-z0-9/_-]*")


def image_root(configuration: dict | None, api_root: str) -> str:
    """The image host a process that talks to `api_root` fetches from (the downloads, the console's posters):
    /configuration's `secure_base_url` when it is https (`image_base`), or a plain http root on the API's own host
    and port (a local server serving its images itself, such as the bundled one); TMDB's own root otherwise."""
    base = ((configuration or {}).get("images") or {}).get("secure_base_url")
    if isinstance(base, str) and _HTTP_ROOT.fullmatch(base) and "/../" not in base \
            and _origin(base) == _origin(api_root):
        return base if base.endswith("/") else base + "/"
    return image_base(configuration)


def _origin(url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def image_url(base: str, size: str, file_path: Any) -> str | None:
    """secure_base_url + size + file_path, or None when the path is not a plain file name."""
    if not isinstance(file_path, str) or not _FILE_PATH.fullmatch(file_path) or not _SIZE.fullmatch(size):
        return None
    return f"{base}{size}{file_path}"


# The image kinds: the appended part's list, the block's primary field, its size option.
IMAGE_KINDS = (("posters", "poster"), ("backdrops", "backdrop"), ("logos", "logo"))
# What a run without `--language` nor `--image_languages` lists: TMDB's own images of these languages, in TMDB's
# order, after its own choice of poster and backdrop (`poster_path`, `backdrop_path`), as before the orders.
TMDB_CHOICE = ("en", None)


def image_order(languages: tuple[str, ...], image_languages: tuple[str | None, ...] = ()) -> tuple | None:
    """The order of image languages: `--image_languages` when given; else the chain's languages (ISO 639-1:
    TMDB tags images by language alone), then textless (None), then English; None without a chain, for TMDB's
    own choice (`TMDB_CHOICE`)."""
    if image_languages:
        return tuple(dict.fromkeys(image_languages))
    if not languages:
        return None
    return tuple(dict.fromkeys([language.partition("-")[0] for language in languages] + [None, "en"]))


def _language(image: dict) -> str | None:
    return image.get("iso_639_1") or None  # TMDB writes null for an image without text


def images_block(details: dict, base: str, poster_size: str = "w500", backdrop_size: str = "w1280",
                 limit: int = 10, order: tuple[str | None, ...] | None = None) -> dict:
    """The `images` block: the poster, backdrop and logo, the language of each (None: without text), and the
    alternates of each kind, at most `limit`.

    `order` is the order of image languages (`image_order`): the first image in it is the kind's primary and
    the lists keep it (TMDB's order within a language); images of other languages are left out. None: TMDB's own
    choice, the details' `poster_path` and `backdrop_path`, then its English and textless images in its order.
    """
    images = details.get("images") or {}
    sizes = {"poster": poster_size, "backdrop": backdrop_size, "logo": LOGO_SIZE}
    block: dict[str, Any] = {}
    lists: dict[str, list[str]] = {}
    for kind, field in IMAGE_KINDS:
        items = [i for i in images.get(kind) or [] if isinstance(i, dict)]
        ranks = {language: rank for rank, language in enumerate(order or TMDB_CHOICE)}
        chosen = sorted((i for i in items if _language(i) in ranks), key=lambda i: ranks[_language(i)]) \
            if order is not None else [i for i in items if _language(i) in ranks]
        primary = details.get(f"{field}_path") if order is None else None
        if order is None and primary is not None:
            # TMDB's choice: its language is that of the same file in the list, when it is there.
            chosen.insert(0, next((i for i in items if i.get("file_path") == primary),
                                  {"file_path": primary, "iso_639_1": None}))
        found: list[tuple[str, str | None]] = []
        for image in chosen:
            url = image_url(base, sizes[field], image.get("file_path"))
            if url and url not in (u for u, _ in found):
                found.append((url, _language(image)))
        block[field], block[f"{field}_language"] = found[0] if found else (None, None)
        lists[kind] = [url for url, _ in found[:limit]]
    return {**block, **lists}


_KEEP = ("id", "imdb_id", "title", "original_title", "release_date", "overview", "tagline", "runtime", "genres",
         "original_language", "vote_average", "vote_count", "popularity", "production_countries",
         "spoken_languages", "poster_path", "backdrop_path", "external_ids")


def trim_details(details: dict) -> dict:
    """Keeps only what the blocks above read, so the cache, checkpoints and shuffles stay small.

    Every translation, country and image language is kept (at most `IMAGES_PER_LANGUAGE` images of a language
    and kind): a run with another `--language`, `--certification_countries` or `--image_languages` picks from
    the same cached body.
    """
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
        kept["images"] = {kind: _trim_images(images.get(kind)) for kind, _ in IMAGE_KINDS}
    if "belongs_to_collection" in details:
        found = details["belongs_to_collection"]
        kept["belongs_to_collection"] = {k: found.get(k) for k in ("id", "name", "poster_path", "backdrop_path")} \
            if isinstance(found, dict) else None
    if "keywords" in details:
        kept["keywords"] = {"keywords": [{"name": name} for name in
                                         _names((details.get("keywords") or {}).get("keywords"))]}
    if "translations" in details:
        kept["translations"] = {"translations": [
            {"iso_639_1": t.get("iso_639_1"), "iso_3166_1": t.get("iso_3166_1"),
             "data": {f: t["data"][f] for f in TEXT_FIELDS if isinstance(t["data"].get(f), str) and t["data"][f]}}
            for t in (details.get("translations") or {}).get("translations") or []
            if isinstance(t, dict) and isinstance(t.get("data"), dict)
            and any(isinstance(t["data"].get(f), str) and t["data"][f] for f in TEXT_FIELDS)]}
    if "release_dates" in details:
        results = []
        for item in (details.get("release_dates") or {}).get("results") or []:
            rated = [{"certification": r["certification"], "type": r.get("type")}
                     for r in (item.get("release_dates") or [] if isinstance(item, dict) else [])
                     if isinstance(r, dict) and isinstance(r.get("certification"), str) and r["certification"].strip()]
            if rated:
                results.append({"iso_3166_1": item.get("iso_3166_1"), "release_dates": rated})
        kept["release_dates"] = {"results": results}
    if "videos" in details:
        kept["videos"] = {"results": [{k: v.get(k) for k in ("iso_639_1", "key", "site", "type", "official")}
                                      for v in (details.get("videos") or {}).get("results") or []
                                      if _is_trailer(v)]}
    return kept


def _trim_images(items: Any) -> list[dict]:
    """An image list's plain file names and languages, at most `IMAGES_PER_LANGUAGE` of each language."""
    kept, per_language = [], {}
    for image in items or []:
        if isinstance(image, dict) and isinstance(image.get("file_path"), str) and _FILE_PATH.fullmatch(
                image["file_path"]):
            language = _language(image)
            per_language[language] = per_language.get(language, 0) + 1
            if per_language[language] <= IMAGES_PER_LANGUAGE:
                kept.append({"file_path": image["file_path"], "iso_639_1": language})
    return kept


# The HTTP cache keeps trimmed bodies under a key that names the trimming: change the tag with what is kept.
trim_details.cache_tag = "trim_details/3"

# poster_path: the review list shows each candidate's poster.
_SEARCH_KEEP = ("id", "title", "original_title", "release_date", "popularity", "vote_count", "original_language",
                "poster_path")


def trim_search(body: dict) -> dict:
    """Keeps what matching reads of a /search/movie answer, so the HTTP cache stays small."""
    results = body.get("results") if isinstance(body.get("results"), list) else []
    return {"results": [{k: r[k] for k in _SEARCH_KEEP if k in r} for r in results if isinstance(r, dict)],
            "total_results": body.get("total_results")}


trim_search.cache_tag = "trim_search/2"
