"""The bundled TMDB server's appended parts beyond the catalog's own: translations, release dates with
certifications, videos, keywords, the collection a film belongs to, and images in several languages, made up
per film id (the same film always gets the same parts) in the shapes real TMDB bodies have (see
/work/shared/fixtures/tmdb_recorded: movie 550 with release_dates, keywords and images appended).

What a film gets is drawn from a `random.Random` seeded with its id, so tests find a film with a partial
translation, a country without certification or no trailer by asking these functions, not by hard-coding ids.
Stdlib only, as the server is.
"""

from __future__ import annotations

import random
import string

# (language, country, name, english_name, how its texts are marked): the translations a film may have.
LANGUAGES = (
    ("de", "DE", "Deutsch", "German", "DE"),
    ("fr", "FR", "Français", "French", "FR"),
    ("es", "ES", "Español", "Spanish", "ES"),
    ("it", "IT", "Italiano", "Italian", "IT"),
    ("pt", "BR", "Português", "Portuguese", "BR"),
    ("ja", "JP", "日本語", "Japanese", "JA"),
)
# Each country's rating scale, as TMDB's /certification/movie/list has them.
CERTIFICATIONS = {
    "US": ("G", "PG", "PG-13", "R", "NC-17"),
    "DE": ("0", "6", "12", "16", "18"),
    "GB": ("U", "PG", "12A", "15", "18"),
    "FR": ("U", "12", "16", "18"),
    "JP": ("G", "PG12", "R15+", "R18+"),
}
# TMDB's release types: 1 premiere, 2 theatrical (limited), 3 theatrical, 4 digital, 5 physical, 6 TV.
PREMIERE, LIMITED, THEATRICAL, DIGITAL, PHYSICAL, TV = 1, 2, 3, 4, 5, 6
KEYWORDS = ("based on novel or book", "heist", "new york city", "time travel", "revenge", "dystopia",
            "friendship", "small town", "los angeles, california", "road trip", "coming of age", "fight",
            "insomnia", "dual identity", "space", "artificial intelligence", "world war ii", "murder")
IMAGE_LANGUAGES = ("de", "fr", "es", "ja")  # the languages of the images added to the catalog's en and textless


def _rng(movie: dict, part: str) -> random.Random:
    return random.Random(f"{int(movie['id'])}:{part}")


def _path(rng: random.Random, extension: str = ".jpg") -> str:
    return "/" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(27)) + extension


def translations(movie: dict) -> dict:
    """The `translations` part: en-US with the film's own texts, and some of `LANGUAGES`, some of whose fields
    are empty (a partial translation, as TMDB has many)."""
    rng = _rng(movie, "translations")
    title, overview, tagline = (movie.get(k) or "" for k in ("title", "overview", "tagline"))
    entries = [{"iso_3166_1": "US", "iso_639_1": "en", "name": "English", "english_name": "English",
                "data": {"homepage": "", "overview": overview, "runtime": movie.get("runtime") or 0,
                         "tagline": tagline, "title": title}}]
    for language, country, name, english, mark in LANGUAGES:
        if rng.random() < 0.3:
            continue
        entries.append({"iso_3166_1": country, "iso_639_1": language, "name": name, "english_name": english,
                        "data": {"homepage": "",
                                 "overview": f"[{mark}] {overview}" if overview and rng.random() < 0.7 else "",
                                 "runtime": 0,
                                 "tagline": f"[{mark}] {tagline}" if tagline and rng.random() < 0.5 else "",
                                 "title": f"[{mark}] {title}" if rng.random() < 0.85 else ""}})
    return {"translations": entries}


def release_dates(movie: dict) -> dict:
    """The `release_dates` part: some of `CERTIFICATIONS`' countries, each with a theatrical release and maybe
    others; a certification may be empty (TMDB lists many releases without one), or only on a later release."""
    rng = _rng(movie, "release_dates")
    date = (movie.get("release_date") or "2000-01-01") + "T00:00:00.000Z"
    results = []
    for country, scale in CERTIFICATIONS.items():
        if country != "US" and rng.random() < 0.35:
            continue
        rating = rng.choice(scale)
        shape = rng.random()
        dates = []
        if rng.random() < 0.3:
            dates.append(_release("", PREMIERE, date, "Festival"))
        if shape < 0.15:  # no certification at all
            dates.append(_release("", THEATRICAL, date))
        elif shape < 0.3:  # none on the theatrical release, one on the disc
            dates += [_release("", THEATRICAL, date), _release(rating, PHYSICAL, date, "Blu-ray")]
        else:
            dates.append(_release(rating, THEATRICAL, date))
            if rng.random() < 0.4:
                dates.append(_release(rng.choice(scale), DIGITAL, date))
        results.append({"iso_3166_1": country, "release_dates": dates})
    rng.shuffle(results)  # TMDB lists countries in no order a client may rely on
    return {"results": results}


def _release(certification: str, kind: int, date: str, note: str = "") -> dict:
    return {"certification": certification, "descriptors": [], "iso_639_1": "", "note": note,
            "release_date": date, "type": kind}


def videos(movie: dict) -> dict:
    """The `videos` part: none for some films; else trailers (official or not) in English and other languages,
    teasers and featurettes, on YouTube (and one on Vimeo now and then)."""
    rng = _rng(movie, "videos")
    if rng.random() < 0.2:
        return {"results": []}
    kinds = [("Trailer", "en", True)]
    if rng.random() < 0.4:
        kinds.insert(0, ("Teaser", "en", True))
    if rng.random() < 0.5:
        kinds.append(("Trailer", rng.choice(("de", "fr", "es")), rng.random() < 0.6))
    if rng.random() < 0.3:
        kinds.append(("Featurette", "en", True))
    if rng.random() < 0.15:  # a film whose only trailer is unofficial
        kinds = [(kind, language, False) for kind, language, _ in kinds]
    rng.shuffle(kinds)
    title = movie.get("title") or ""
    results = []
    for kind, language, official in kinds:
        vimeo = rng.random() < 0.1
        key = "".join(rng.choice(string.digits) for _ in range(9)) if vimeo else \
            "".join(rng.choice(string.ascii_letters + string.digits + "_-") for _ in range(11))
        results.append({"iso_639_1": language, "iso_3166_1": "US" if language == "en" else language.upper(),
                        "name": f"{title} - Official {kind}" if official else f"{title} {kind} (fan upload)",
                        "key": key, "site": "Vimeo" if vimeo else "YouTube", "size": rng.choice((720, 1080, 2160)),
                        "type": kind, "official": official,
                        "published_at": (movie.get("release_date") or "2000-01-01") + "T16:00:00.000Z",
                        "id": "%024x" % rng.getrandbits(96)})
    return {"results": results}


def keywords(movie: dict) -> dict:
    """The `keywords` part: a few of `KEYWORDS` (none for some films), in TMDB's shape."""
    rng = _rng(movie, "keywords")
    chosen = rng.sample(range(len(KEYWORDS)), rng.choice((0, 2, 3, 4, 6)))
    return {"keywords": [{"id": 1000 + i, "name": KEYWORDS[i]} for i in chosen]}


def collection(movie: dict) -> dict | None:
    """`belongs_to_collection`: a third of the films belong to one, named after the film."""
    rng = _rng(movie, "collection")
    if rng.random() >= 0.3:
        return None
    return {"id": 100_000 + int(movie["id"]) % 997, "name": f"{movie.get('title') or 'Untitled'} Collection",
            "poster_path": _path(rng), "backdrop_path": _path(rng)}


def images(movie: dict) -> dict:
    """The `images` part: the catalog's English and textless posters and backdrops, then posters, backdrops and
    logos in other languages, and logos in English and without text; each language's images in TMDB's order
    (most voted first)."""
    rng = _rng(movie, "images")
    own = movie.get("images") or {}
    added: dict[str, list[dict]] = {"posters": [], "backdrops": [], "logos": []}
    for language in IMAGE_LANGUAGES:
        if rng.random() < 0.5:
            added["posters"] += [_image(rng, language, 0.667) for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.2:
            added["backdrops"].append(_image(rng, language, 1.778))
        if rng.random() < 0.4:
            added["logos"].append(_image(rng, language, 3.2, ".png"))
    for language in ("en", None):
        if rng.random() < 0.7:
            added["logos"] += [_image(rng, language, 3.2, ".png") for _ in range(rng.randint(1, 2))]
    return {kind: list(own.get(kind) or []) + added[kind] for kind in ("backdrops", "logos", "posters")}


def _image(rng: random.Random, language: str | None, ratio: float, extension: str = ".jpg") -> dict:
    width = rng.choice((1000, 2000))
    return {"aspect_ratio": ratio, "height": round(width / ratio), "iso_639_1": language,
            "file_path": _path(rng, extension), "vote_average": round(rng.uniform(0, 6), 3),
            "vote_count": rng.randrange(20), "width": width}


def filter_images(value: dict, query: dict) -> dict:
    """An `images` part as TMDB answers it for a query: `include_image_language` (ISO 639-1 codes, `null` for the
    images without text) keeps those languages; without it, a `language` keeps its own; without either, all."""
    if query.get("include_image_language"):
        wanted = {None if code.strip() == "null" else code.strip()
                  for code in query["include_image_language"].split(",")}
    elif query.get("language"):
        wanted = {query["language"].split("-")[0]}
    else:
        return value
    return {kind: [i for i in items if i.get("iso_639_1") in wanted] if isinstance(items, list) else items
            for kind, items in value.items()}


# The parts made here, by name, as `append_to_response` and /movie/{id}/<part> name them.
MADE = {"translations": translations, "release_dates": release_dates, "videos": videos, "keywords": keywords}
