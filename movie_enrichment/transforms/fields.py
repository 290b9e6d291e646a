"""Which of a scraped record's fields hold its title, year, directors and ids, and their values, parsed.

Scraped and exported movie tables name their fields in their own ways ("Title", "Release Date", "Directed By",
"imdbID", "ids": {"tmdb": ...}). A field's role is found from its name (case, spaces, underscores and hyphens
alike) and confirmed by its values: per database, the field of each role with the most usable values in a
sample comes first (`detect_roles`), and each record falls back on any other field of that role it has.
`--field ROLE=NAME` overrides a role outright.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from dateutil import parser as date_parser

TITLE, ORIGINAL_TITLE, YEAR, DIRECTORS, IMDB_ID, TMDB_ID = (
    "title", "original_title", "year", "directors", "imdb_id", "tmdb_id")
ROLES = (TITLE, ORIGINAL_TITLE, YEAR, DIRECTORS, IMDB_ID, TMDB_ID)
# What this tool writes into a record: never read as the user's own fields.
OWN_FIELDS = frozenset({"tmdb", "images", "enrichment"})

# The first films date from 1874 (Janssen's "Passage de Vénus"); a year further ahead than this is a typo.
FIRST_FILM_YEAR = 1874
YEARS_AHEAD = 5

# Field names by role, compacted (lower case, letters and digits only), most specific first. A name in an
# earlier tuple wins a tie of usable values over one in a later tuple.
_ALIASES: dict[str, tuple[tuple[str, ...], ...]] = {
    TITLE: (("title", "movietitle", "filmtitle", "primarytitle", "englishtitle", "movie", "film"),
            ("name", "moviename", "filmname", "filmlabel", "movielabel", "titletext"),),
    ORIGINAL_TITLE: (("originaltitle", "originalname", "titleoriginal", "nativetitle"),),
    YEAR: (("year", "releaseyear", "releasedate", "titleyear", "startyear", "yearreleased", "productionyear",
            "filmyear", "movieyear"),
           ("released", "release", "premiere", "premiered", "premieredate", "publicationdate", "initialrelease",
            "firstrelease", "date", "releasedon", "airdate"),),
    DIRECTORS: (("director", "directors", "directedby", "directorname", "directornames", "directorlabel",
                 "directorsnames", "direction", "filmdirector", "moviedirector"),),
    IMDB_ID: (("imdbid", "imdb", "imdburl", "imdblink", "movieimdblink", "imdbidentifier", "tconst",
               "imdbtconst"),
              ("ids", "externalids", "uniqueid", "uniqueids", "url", "link", "links", "source", "film",
               "movieurl", "filmurl"),),
    TMDB_ID: (("tmdbid", "tmdb", "tmdburl", "tmdblink", "themoviedbid", "themoviedb", "tmdbmovieid"),
              ("ids", "externalids", "uniqueid", "uniqueids", "url", "link", "links"),),
}
# A name that is no alias still takes a role when it contains one of these words ("movie_title",
# "director_fb_name"); its values then decide. Weakest tier of all.
_NAME_PARTS: dict[str, tuple[str, ...]] = {
    TITLE: ("title",),
    ORIGINAL_TITLE: ("originaltitle",),
    YEAR: ("year", "releasedate", "premiere"),
    DIRECTORS: ("director",),
    IMDB_ID: ("imdb",),
    TMDB_ID: ("tmdb", "themoviedb"),
}
# Names that contain a role's word but are not that role ("imdbRating", "title_type", "director_facebook_likes"
# are caught by their values, these by their names).
_NOT_ROLE_PARTS = ("rating", "votes", "score", "likes", "count", "type", "scraped", "updated", "created",
                   "modified", "added", "watched", "rewatch")

UNKNOWN_VALUES = frozenset({"", "n/a", "na", "\\n", "tba", "tbd", "unknown", "none", "null", "-", "--", "?",
                            "nan", "not available", "untitled"})
_FOOTNOTE = re.compile(r"\[(?:\d+|[a-z]|note \d+|citation needed)\]", re.IGNORECASE)
_BARE_YEAR = re.compile(r"^\(?\s*(?:c\.?|ca\.?|circa)?\s*(\d{4})(?:\.0+)?\s*\)?$", re.IGNORECASE)
# "2010–2013" (OMDb series years), "2010-2013": the first year.
_YEAR_RANGE = re.compile(r"^(\d{4})\s*[–—-]\s*(\d{4})?$")
_IMDB_IN_TEXT = re.compile(r"(?<![a-z0-9])(tt\d{7,9})(?!\d)", re.IGNORECASE)
_TMDB_URL = re.compile(r"themoviedb\.org/movie/(\d+)", re.IGNORECASE)
_PERSON_ID = re.compile(r"^nm\d+$", re.IGNORECASE)
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_ARRAY_KEY = re.compile(r"#\d+")
# Generic link fields: an id is taken from them only when it is inside a TMDB or IMDb URL.
_URL_ONLY = frozenset({"url", "link", "links", "source", "film", "movieurl", "filmurl"})


def compact(name: str) -> str:
    """'Release Date', 'release_date', 'RELEASE-DATE' and 'releaseDate' -> 'releasedate'."""
    folded = unicodedata.normalize("NFKD", name).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def _tier(role: str, name: str) -> int | None:
    """How strongly a field's name says it plays a role: 0 best; None when it does not."""
    key = compact(name)
    for tier, names in enumerate(_ALIASES[role]):
        if key in names:
            return tier
    if any(part in key for part in _NAME_PARTS[role]) and not any(p in key for p in _NOT_ROLE_PARTS):
        if role == TITLE and "original" in key:
            return None
        return len(_ALIASES[role])
    return None


# --- Values -------------------------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    """A string value with footnote marks, non-breaking spaces and "N/A"-style unknowns taken out."""
    if not isinstance(value, str):
        return None
    text = " ".join(_FOOTNOTE.sub(" ", unicodedata.normalize("NFC", value)).split())
    return None if text.casefold() in UNKNOWN_VALUES else text


def plausible_year(year: int, today: datetime.date | None = None) -> bool:
    """A year a film can have been released in: from 1874 to a few years ahead."""
    return FIRST_FILM_YEAR <= year <= (today or datetime.date.today()).year + YEARS_AHEAD


_NO_YEAR = datetime.datetime(1, 1, 1)


def parse_year(value: Any) -> int | None:
    """The release year in a value: 2000, 2000.0, "2000", "(2000)", "c. 2000", "2000[3]", "2010–2013",
    "2000-05-05", "May 05 2000", "5 May 2000", "05/05/2000", "2010-07-16T00:00:00Z"; None when there is
    none or it is not a plausible film year. Lists (one date per country): the earliest."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        value = int(value) if value.is_integer() else None
    if isinstance(value, int):
        return value if plausible_year(value) else None
    if isinstance(value, list):
        years = [y for y in (parse_year(v) for v in value) if y is not None]
        return min(years) if years else None
    if isinstance(value, dict):
        return _first(parse_year, (value.get(k) for k in ("year", "date", "release_date", "value")))
    text = _text(value)
    if text is None:
        return None
    year = _year_from_text(text)
    return year if year is not None and plausible_year(year) else None


def _year_from_text(text: str) -> int | None:
    match = _BARE_YEAR.match(text) or _YEAR_RANGE.match(text)
    if match:
        return int(match[1])
    if text.isdigit():
        return None  # "19999", "20000101" as a number: not a year we can trust
    try:
        # The default date carries year 1, so a text with no year in it ("May 5") is told apart.
        parsed = date_parser.parse(text, default=_NO_YEAR, fuzzy=True)
    except (ValueError, OverflowError, TypeError):
        return None
    return None if parsed.year == _NO_YEAR.year else parsed.year


def parse_title(value: Any) -> str | None:
    """A usable title: text, or a number ("1917", "300"); None for null, "N/A", empty, lists, objects."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict):
        return parse_title(value.get("name") or value.get("title") or value.get("value"))
    text = _text(value)
    return None if text is None or _URL.match(text) else text


def parse_directors(value: Any) -> tuple[str, ...]:
    """Director names from "A, B", "A & B", ["A", "B"], {"name": "A"}, [{"name": "A"}, ...]; no person ids."""
    if isinstance(value, dict):
        value = [value]
    if isinstance(value, str):
        text = _text(value)
        names = split_director_string(text) if text else []
    elif isinstance(value, list):
        names = [(item.get("name") or item.get("label") or item.get("full_name")) if isinstance(item, dict)
                 else item for item in value]
    else:
        return ()
    cleaned = [_text(n) for n in names if isinstance(n, str)]
    return tuple(dict.fromkeys(n for n in cleaned if n and not _PERSON_ID.match(n)))  # dedupe, keep order


def split_director_string(text: str) -> list[str]:
    # ";", "|" and "/" never occur inside a name.  "&", "and" and "," may (as in "Browning, Kirk"),
    # so those splits are only accepted when every side looks like a full name.
    names: list[str] = []
    for chunk in re.split(r"[;|/]", text):
        for part in _split_if_names(chunk, r"\s+(?:&|and)\s+", allow_inverted=True):
            names.extend(_split_if_names(part, r"\s*,\s*", allow_inverted=False))
    return names


def _split_if_names(text: str, separator: str, allow_inverted: bool) -> list[str]:
    parts = [p.strip() for p in re.split(separator, text.strip())]
    if len(parts) < 2:
        return parts

    def full_name(part: str) -> bool:
        return len(part.split()) >= 2 or (allow_inverted and "," in part)

    return parts if all(full_name(p) for p in parts) else [text.strip()]


def _typed_ids(value: Any, kind: str) -> Any:
    """From Kodi's [{"type": "tmdb", "value": "603"}] or Trakt's {"imdb": ..., "tmdb": ...}: the `kind` id."""
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and str(item.get("type", "")).casefold() == kind:
                return item.get("value", item.get("id"))
        return None
    if isinstance(value, dict):
        return value.get(kind, value.get(f"{kind}_id"))
    return value


def parse_imdb_id(value: Any, bare_digits: bool = False) -> str | None:
    """"tt0133093" alone, in a URL or in any text; with `bare_digits`, MovieLens's zero-stripped "133093" too."""
    value = _typed_ids(value, "imdb")
    if isinstance(value, bool):
        return None
    if bare_digits and isinstance(value, int) and value > 0:
        return f"tt{value:07d}"
    text = _text(value)
    if text is None:
        return None
    match = _IMDB_IN_TEXT.search(text)
    if match:
        return match[1].lower()
    if bare_digits and text.isdigit() and not text.startswith("0"):  # MovieLens strips the zeros too
        return f"tt{int(text):07d}"
    return None


def parse_tmdb_id(value: Any, numbers: bool = True) -> int | None:
    """A TMDB movie id: 603, "603", "https://www.themoviedb.org/movie/603-the-matrix"; None otherwise.

    `numbers` False: only a TMDB URL (for generic fields such as "url", where a number means something else)."""
    value = _typed_ids(value, "tmdb")
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return value if numbers and value > 0 else None
    text = _text(value)
    if text is None:
        return None
    match = _TMDB_URL.search(text)
    if match:
        return int(match[1])
    if numbers and text.isdigit() and int(text) > 0:
        return int(text)
    return None


# --- Fields of a record ---------------------------------------------------------------------------------------


def _paths(record: Mapping) -> Iterable[str]:
    """Every field name of a record, and one level down into objects ("ids.tmdb"), our own fields excepted."""
    for name, value in record.items():
        if not isinstance(name, str) or name in OWN_FIELDS:
            continue
        yield name
        if isinstance(value, dict):
            yield from (f"{name}.{inner}" for inner in value if isinstance(inner, str))


def field_value(record: Mapping, path: str) -> tuple[bool, Any]:
    """(present, value) of a field named by `path`; a dotted path reaches into an object."""
    if path in record:
        return True, record[path]
    head, _, rest = path.partition(".")
    inner = record.get(head) if rest else None
    if isinstance(inner, dict) and rest in inner:
        return True, inner[rest]
    return False, None


@functools.lru_cache(maxsize=1 << 16)  # a pure function of two names, asked for every field of every record
def _role_tier(role: str, path: str) -> int | None:
    """A dotted path takes a role by its last part ("ids.imdb"), or by its parent's name for typed id lists."""
    tier = _tier(role, path.rsplit(".", 1)[-1])
    if "." in path and role in (TITLE, ORIGINAL_TITLE) and compact(path.rsplit(".", 1)[-1]) in ("name", "label"):
        return None  # {"director": {"name": ...}} is a director's name, not the film's
    return tier


def usable(role: str, path: str, value: Any) -> Any:
    """The role's parsed value of one field (None or () when the value is not usable for that role)."""
    name = compact(path.rsplit(".", 1)[-1])
    if role in (TITLE, ORIGINAL_TITLE):
        return parse_title(value)
    if role == YEAR:
        return parse_year(value)
    if role == DIRECTORS:
        return parse_directors(value)
    if role == IMDB_ID:
        return parse_imdb_id(value, bare_digits=name in ("imdbid", "imdb", "imdbidentifier"))
    return parse_tmdb_id(value, numbers=name not in _URL_ONLY)


@dataclasses.dataclass(frozen=True)
class Roles:
    """The fields to read for each role, best first. `fixed` roles were given with `--field`: only that field."""

    fields: tuple[tuple[str, tuple[str, ...]], ...] = ()
    fixed: frozenset[str] = frozenset()

    def for_role(self, role: str) -> tuple[str, ...]:
        return dict(self.fields).get(role, ())

    def candidates(self, role: str, record: Mapping) -> list[str]:
        """The fields of this record to try for a role: the database's, then the record's own (fallback)."""
        chosen = list(self.for_role(role))
        if role in self.fixed:
            return chosen
        own = sorted(((t, i, p) for i, p in enumerate(_paths(record)) if p not in chosen
                      for t in [_role_tier(role, p)] if t is not None))
        return chosen + [p for _, _, p in own]

    def value(self, role: str, record: Mapping) -> tuple[str | None, Any]:
        """(field, parsed value) of the first field of this record with a usable value for the role."""
        for path in self.candidates(role, record):
            present, raw = field_value(record, path)
            if present:
                parsed = usable(role, path, raw)
                if parsed not in (None, ()):
                    return path, parsed
        return None, None

    def title_field(self, record: Mapping) -> str | None:
        """The first title field the record has, usable or not (a null title there is a data error); a link
        (Wikidata's "film") is no title field."""
        for path in self.candidates(TITLE, record):
            present, raw = field_value(record, path)
            if present and not (isinstance(raw, str) and _URL.match(raw.strip())):
                return path
        return None


DEFAULT_ROLES = Roles()


class FieldError(ValueError):
    """A bad `--field` mapping; the message is one line."""


def parse_field_option(values: Iterable[str]) -> dict[str, str]:
    """["year=Release Date", "directors=Directed By"] -> {"year": "Release Date", ...}; raises FieldError."""
    mapping: dict[str, str] = {}
    aliases = {"date": YEAR, "director": DIRECTORS, "imdb": IMDB_ID, "tmdb": TMDB_ID, "original": ORIGINAL_TITLE}
    for item in values:
        role, sep, name = item.partition("=")
        role_key = role.strip().casefold().replace("-", "_").replace(" ", "_")
        role_key = aliases.get(role_key, role_key)
        if not sep or role_key not in ROLES or not name.strip():
            raise FieldError(f"--field takes ROLE=FIELD with ROLE one of {', '.join(ROLES)}; got {item!r}")
        mapping[role_key] = name.strip()
    return mapping


@dataclasses.dataclass(frozen=True)
class RoleReport:
    """How one role was resolved over a database: the field used and how many records have a usable value."""

    role: str
    field: str | None
    usable: int
    records: int
    fixed: bool = False

    def line(self) -> str:
        share = f"{self.usable / self.records:.0%}" if self.records else "-"
        source = "given with --field" if self.fixed else "detected"
        if self.field is None and not self.usable:
            return f"{self.role}: no field found"
        where = f"'{self.field}' ({source})" if self.field else "several fields"
        return f"{self.role}: {where}, usable in {self.usable:,} of {self.records:,} records ({share})"


SAMPLE_SIZE = 2000


def _sample(records: list[Any], size: int) -> list[Mapping]:
    objects = [r for r in records if isinstance(r, dict)]
    if len(objects) <= size:
        return objects
    step = len(objects) / size  # spread over the file: several scrapers may have fed different parts of it
    return [objects[int(i * step)] for i in range(size)]


def detect_roles(records: Iterable[Any], overrides: Mapping[str, str] | None = None,
                 sample_size: int = SAMPLE_SIZE) -> Roles:
    """Per role, the fields of a sample of records ranked by usable values (ties: by how specific the name is).

    `overrides` ({role: field}) win: that role then reads that field only."""
    overrides = dict(overrides or {})
    sample = _sample(list(records), sample_size)
    ranked: list[tuple[str, tuple[str, ...]]] = []
    for role in ROLES:
        if role in overrides:
            ranked.append((role, (overrides[role],)))
            continue
        counts: dict[str, int] = {}
        tiers: dict[str, int] = {}
        for record in sample:
            for path in _paths(record):
                tier = _role_tier(role, path)
                if tier is None:
                    continue
                tiers[path] = tier
                present, raw = field_value(record, path)
                if present and usable(role, path, raw) not in (None, ()):
                    counts[path] = counts.get(path, 0) + 1
        # A generic name ("Date", "Name") needs clearly more usable values to beat a specific one.
        order = sorted(counts, key=lambda p: (-counts[p] * (1.0 - 0.1 * tiers[p]), tiers[p], p))
        ranked.append((role, tuple(order)))
    return Roles(tuple(ranked), frozenset(overrides))


def input_roles(field_overrides: Iterable[tuple[str, str]] = ()) -> Roles:
    """The roles that depend on no data: the `--field` overrides, and every field named like a role. What
    `match_inputs` is computed with, the same by every writer of a record whatever its batch."""
    return detect_roles((), dict(field_overrides))


def roles_report(records: Iterable[Any], roles: Roles) -> list[RoleReport]:
    """Per role: the field most records take their value from, and how many records have a usable value."""
    objects = [r for r in records if isinstance(r, dict)]
    reports = []
    for role in ROLES:
        used: dict[str, int] = {}
        for record in objects:
            path, _ = roles.value(role, record)
            if path is not None:
                used[path] = used.get(path, 0) + 1
        main = max(used, key=lambda p: used[p]) if used else (roles.for_role(role) or (None,))[0]
        reports.append(RoleReport(role, main, sum(used.values()), len(objects), role in roles.fixed))
    return reports


# --- What a match depends on -----------------------------------------------------------------------------------


def match_inputs(record: Any, roles: Roles = DEFAULT_ROLES) -> str:
    # `roles`: `input_roles(field_overrides)` (DEFAULT_ROLES without --field).
    """A digest of what a record's match depends on: the raw values of every field that may give it a title,
    an original title, a year, directors or an id. A change to any of them (a corrected year, a pinned
    tmdb_id) changes the digest; other fields (a rating, a note) do not. Equal records give equal digests."""
    if not isinstance(record, dict):
        return ""
    inputs: dict[str, Any] = {}
    for role in ROLES:
        for path in roles.candidates(role, record):
            present, raw = field_value(record, path)
            if present:
                inputs[path] = raw
    try:
        data = orjson.dumps(inputs, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    except (orjson.JSONEncodeError, TypeError):
        data = repr(sorted(inputs.items(), key=lambda kv: kv[0])).encode("utf-8")
    return hashlib.blake2b(data, digest_size=10).hexdigest()


def is_position_key(key: Any) -> bool:
    """'#12': a record's position in an array or JSON Lines file, not a title."""
    return isinstance(key, str) and bool(_ARRAY_KEY.fullmatch(key))


def _first(parse, values: Iterable[Any]) -> Any:
    for value in values:
        parsed = parse(value)
        if parsed is not None:
            return parsed
    return None
