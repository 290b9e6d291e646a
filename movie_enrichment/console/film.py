"""One film of the database as the console shows it: found by a child process (`python -m
movie_enrichment.console.film DB KEY`, so that the server never parses the database itself), then shaped for the
film page: its texts and where each came from, its certification, trailer, collection, keywords, links elsewhere
and images (their languages, and the files `--download_images` stored).

The child prints one JSON object: {"key": ..., "name": ..., "record": {...}}, or {"error": "..."}.
"""

import os
import sys
from typing import Any

import orjson

from movie_enrichment.console import child
from movie_enrichment.transforms import extract

# Where a film's ids elsewhere lead (tmdb.external_ids); the others are shown as text.
EXTERNAL_PAGES = {"imdb_id": "https://www.imdb.com/title/{}/", "wikidata_id": "https://www.wikidata.org/wiki/{}",
                  "facebook_id": "https://www.facebook.com/{}", "instagram_id": "https://www.instagram.com/{}/",
                  "twitter_id": "https://x.com/{}"}
TMDB_PAGE = "https://www.themoviedb.org/movie/{}"
TEXT_FIELDS = ("title", "overview", "tagline")
IMAGE_KINDS = ("poster", "backdrop", "logo")
MAX_KEY = 500


class FilmError(Exception):
    """No film for this key, or the database cannot be read; the message is one line, `status` the HTTP one."""

    def __init__(self, message: str, status: int = 404):
        super().__init__(message)
        self.status = status


def check_key(value: str | None) -> str:
    """The key asked for, or FilmError (400) when it cannot be one."""
    key = (value or "").strip()
    if not key:
        raise FilmError("key: a movie's key in the database (or its name, as the review list shows it)", 400)
    if len(key) > MAX_KEY or "\n" in key:
        raise FilmError(f"key: one line of at most {MAX_KEY} characters", 400)
    return key


def find(items: list[tuple[str, Any]], key: str, naming=None) -> dict | None:
    """{"key", "name", "record"} of the record whose key or name is `key` (exactly, then ignoring case); None."""
    from movie_enrichment.transforms import naming as names
    folded = key.casefold()
    loose = None
    for item_key, record in items:
        name = names.name_of(naming, item_key, record)
        if key in (item_key, name):
            return {"key": item_key, "name": name, "record": record}
        if loose is None and folded in (item_key.casefold(), name.casefold()):
            loose = {"key": item_key, "name": name, "record": record}
    return loose


def read(path: str, key: str) -> dict:
    """The film `key` of the database at `path` (what the child prints); FilmError when there is none."""
    from movie_enrichment.io import database
    from movie_enrichment.transforms import naming as names
    try:
        snapshot, items = database.load(path)
    except (OSError, ValueError) as error:
        raise FilmError(str(error).splitlines()[0], 500) from None
    chosen = names.decide(items) if snapshot.format != database.FORMAT_OBJECT else None
    found = find(items, key, chosen)
    if found is None:
        raise FilmError(f"no movie {key!r} in the database")
    return found


async def ask(path: str, key: str) -> dict:
    """The film, from a child process reading the database; FilmError when there is none."""
    answer, status = await child.answer("movie_enrichment.console.film", path, key)
    if answer is None:
        raise FilmError(f"reading the database failed (exit status {status})", 500)
    if "error" in answer:
        raise FilmError(answer["error"], answer.get("status", 404))
    return answer


def _rerooted(url: Any, root: str | None) -> Any:
    """A stored TMDB image URL on the image host the console's TMDB names (the bundled server's own)."""
    if root and isinstance(url, str) and url.startswith(extract.DEFAULT_IMAGE_BASE):
        return root + url[len(extract.DEFAULT_IMAGE_BASE):]
    return url


def _language(value: Any) -> str:
    return "textless" if value is None else str(value)


def shape(found: dict, root: str | None = None, files_url: str | None = None) -> dict:
    """What the film page shows of a record, each part None where the record has none.

    Args:
        found: `read`'s answer.
        root: the image host to show TMDB's images from, or None for the stored URLs.
        files_url: where the console serves `--download_images`' folder, or None when it does not.
    """
    record = found["record"] if isinstance(found.get("record"), dict) else {}
    tmdb = record.get("tmdb") if isinstance(record.get("tmdb"), dict) else {}
    images = record.get("images") if isinstance(record.get("images"), dict) else {}
    languages = tmdb.get("text_languages") if isinstance(tmdb.get("text_languages"), dict) else {}
    texts = [{"field": field, "value": tmdb.get(field), "language": languages.get(field),
              "told": field in languages} for field in TEXT_FIELDS if field in tmdb or field in languages]
    rating = tmdb.get("certification") if isinstance(tmdb.get("certification"), dict) else None
    trailer = tmdb.get("trailer") if isinstance(tmdb.get("trailer"), dict) else None
    collection = tmdb.get("collection") if isinstance(tmdb.get("collection"), dict) else None
    ids = tmdb.get("external_ids") if isinstance(tmdb.get("external_ids"), dict) else {}
    links = [{"name": name.removesuffix("_id"), "id": value,
              "url": EXTERNAL_PAGES[name].format(value) if name in EXTERNAL_PAGES else None}
             for name, value in ids.items() if isinstance(value, str) and value]
    shown_images = []
    for kind in IMAGE_KINDS:
        if not images.get(kind) and not images.get(f"{kind}_file"):
            continue
        stored = images.get(f"{kind}_file")
        shown_images.append({
            "kind": kind, "url": _rerooted(images.get(kind), root), "stored_url": images.get(kind),
            "language": _language(images.get(f"{kind}_language")) if f"{kind}_language" in images else None,
            "file": stored, "file_url": f"{files_url}{stored}" if files_url and isinstance(stored, str) else None,
            "width": images.get(f"{kind}_width"), "height": images.get(f"{kind}_height"),
            "blurhash": images.get(f"{kind}_blurhash")})
    outcomes = record.get("enrichment") if isinstance(record.get("enrichment"), dict) else {}
    return {
        "key": found.get("key"), "name": found.get("name"),
        "tmdb_id": tmdb.get("id"), "tmdb_url": TMDB_PAGE.format(tmdb["id"]) if isinstance(tmdb.get("id"), int) else None,
        "original_title": tmdb.get("original_title"), "year": tmdb.get("year"), "texts": texts,
        "certification": f"{rating.get('country')} {rating.get('rating')}" if rating else None,
        "trailer": trailer,
        "collection": collection and {"id": collection.get("id"), "name": collection.get("name"),
                                      "poster": _rerooted(collection.get("poster"), root)},
        "keywords": tmdb.get("keywords") if isinstance(tmdb.get("keywords"), list) else None,
        "links": links, "images": shown_images,
        "statuses": {name: o.get("status") for name, o in outcomes.items() if isinstance(o, dict)},
        "record": record,
    }


def main(argv: list[str]) -> int:
    try:
        found = read(argv[0], check_key(argv[1]))
    except FilmError as error:
        sys.stdout.write(orjson.dumps({"error": str(error), "status": error.status}).decode() + "\n")
        return 1
    sys.stdout.write(orjson.dumps(found).decode() + "\n")
    return 0


def files_folder(settings: dict) -> str | None:
    """The local folder `--download_images` stores images in (a server setting), or None (none, or remote)."""
    folder = settings.get("download_images")
    if not isinstance(folder, str) or "://" in folder:
        return None
    return os.path.abspath(folder)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
