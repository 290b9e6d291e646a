"""A scraped record as a `MovieQuery`: its title cleaned (or `InvalidRecord`), year, directors and ids; and the
comparison key of a title (`normalize_title`)."""

from __future__ import annotations

import dataclasses
import re
import unicodedata

from movie_enrichment.transforms import fields

_ARTICLES_RE = r"the|an|a|les|le|la|l'|der|die|das|el|il"
_TRAILING_ARTICLE = re.compile(rf"^(?P<body>.+?),\s*(?P<article>{_ARTICLES_RE})\s*$", re.IGNORECASE)
_TRAILING_YEAR = re.compile(r"^(?P<body>.+?)\s*\((?P<year>\d{4})\)\s*$")
# Articles dropped from the front for comparison ("l" is what "L'" becomes once "'" is a space).
LEADING_ARTICLES = frozenset({"the", "a", "an", "les", "le", "la", "l", "der", "die", "das", "el", "il"})
# Letters that NFKD does not decompose but that people type without the diacritic.
_LETTER_FOLDS = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ł": "l", "þ": "th", "ð": "d", "ı": "i"})


class InvalidRecord(ValueError):
    """A record that cannot be matched; the message is the one-line reason."""


# Titles that stand for a missing one in most tables but are also real films' titles ("Unknown", 2006 and 2011):
# missing only when the record has nothing else to go on (no year, director or id).
PLACEHOLDER_TITLES = frozenset({"unknown", "untitled", "tba", "tbd", "none", "not available"})


class _PlaceholderTitle(InvalidRecord):
    """A title such as "Unknown": the record is invalid unless something else tells its film (see query_from_record)."""

    def __init__(self, message: str, title: str):
        super().__init__(message)
        self.title = title


@dataclasses.dataclass(frozen=True)
class MovieQuery:
    """What a record tells us about its movie, normalised."""

    title: str
    year: int | None
    directors: tuple[str, ...]
    tmdb_id: int | None
    imdb_id: str | None
    original_title: str | None = None
    # The film an earlier run matched (the record's own `tmdb` block), when `tmdb_id` is that film's and not an
    # id the user gave: gone from TMDB, it is looked for again (its IMDb id, then title and year).
    matched_id: int | None = None
    matched_imdb_id: str | None = None


# --- Records -> MovieQuery ------------------------------------------------------------------


def query_from_record(key: str, record: object, roles: fields.Roles = fields.DEFAULT_ROLES) -> MovieQuery:
    """Build a MovieQuery from a scraped record, reading each role from the fields `roles` names (detected per
    database, with the record's own fields as fallback); raise InvalidRecord if it has no usable title.

    Only the title is mandatory: an unparseable year, director or id is ignored (None/empty), since
    the title alone still allows a search.
    """
    if not isinstance(record, dict):
        raise InvalidRecord(f"record is not an object (got {type(record).__name__})")
    year = roles.value(fields.YEAR, record)[1]
    directors = roles.value(fields.DIRECTORS, record)[1] or ()
    own_id = roles.value(fields.TMDB_ID, record)[1]
    tmdb_id = own_id or _previous_id(record)
    imdb_id = roles.value(fields.IMDB_ID, record)[1]
    try:
        raw = _raw_title(key, record, roles)
    except _PlaceholderTitle as placeholder:
        if year is None and not directors and tmdb_id is None and imdb_id is None:
            raise
        raw = placeholder.title  # "Unknown" (2011, Jaume Collet-Serra) is a film to look up
    title, title_year = _split_trailing_year(_clean_title(raw))
    original = roles.value(fields.ORIGINAL_TITLE, record)[1]
    original = _clean_title(original) if original else None
    return MovieQuery(
        title=title,
        year=year if year is not None else title_year,
        directors=directors,
        tmdb_id=tmdb_id,
        imdb_id=imdb_id,
        original_title=original if original and normalize_title(original) != normalize_title(title) else None,
        matched_id=tmdb_id if own_id is None else None,
        matched_imdb_id=_previous_imdb_id(record) if own_id is None and tmdb_id is not None else None,
    )


def _raw_title(key: str, record: dict, roles: fields.Roles) -> str:
    # The first title field the record has (even with a bad value) wins over fallbacks: a null title is a
    # data problem to report, not something to paper over with the key.
    field = roles.title_field(record)
    if field is not None:
        return _title_text(field, fields.field_value(record, field)[1])
    # A key is a title in an object keyed by title; in an array or JSON Lines it is a position (#12).
    if isinstance(key, str) and key.strip() and not fields.is_position_key(key):
        return key
    original = roles.value(fields.ORIGINAL_TITLE, record)[1]
    if original:
        return original
    raise InvalidRecord("record has no usable title: no title field")


def _title_text(field: str, value: object) -> str:
    title = fields.parse_title(value)
    if title is not None:
        return title
    if isinstance(value, bool) or value is None:
        raise InvalidRecord(f"record has no usable title: {field} is {'null' if value is None else 'a boolean'}")
    if isinstance(value, str):
        reason = "empty" if not value.strip() else f"{value.strip()!r}, an unknown"
        text = " ".join(value.split())
        if text.casefold() in PLACEHOLDER_TITLES:
            raise _PlaceholderTitle(f"record has no usable title: {field} is {reason}", text)
        raise InvalidRecord(f"record has no usable title: {field} is {reason}")
    raise InvalidRecord(f"record has no usable title: {field} is a {type(value).__name__}, not text")


def _clean_title(title: str) -> str:
    """Display title: NFC, single spaces, trailing article moved to the front."""
    text = " ".join(unicodedata.normalize("NFC", title).split())
    return _move_trailing_article(text)


def _move_trailing_article(text: str) -> str:
    match = _TRAILING_ARTICLE.match(text)
    if not match:
        return text
    article, body = match["article"], match["body"]
    # "L'" glues to the word ("L'Avventura"); the others take a space.
    return f"{article}{body}" if article.endswith("'") else f"{article} {body}"


def _split_trailing_year(title: str) -> tuple[str, int | None]:
    """'The Matrix (1999)' -> ('The Matrix', 1999): scrapers often glue the year to the title."""
    match = _TRAILING_YEAR.match(title)
    if not match or not _in_range(int(match["year"])):
        return title, None
    return _move_trailing_article(match["body"]), int(match["year"])


def _in_range(year: int) -> bool:
    return fields.plausible_year(year)


def _parse_year(value: object) -> int | None:
    return fields.parse_year(value)


def _previous_id(record: dict) -> int | None:
    """The TMDB id an earlier run matched (our own `tmdb` block)."""
    previous = record.get("tmdb")
    return positive_int(previous.get("id")) if isinstance(previous, dict) else None


def _previous_imdb_id(record: dict) -> str | None:
    """The IMDb id TMDB gave the film an earlier run matched."""
    previous = record.get("tmdb")
    return fields.parse_imdb_id(previous.get("imdb_id")) if isinstance(previous, dict) else None


def positive_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return value if isinstance(value, int) and value > 0 else None


# --- Title normalisation ----------------------------------------------------------------------


def fold(text: str) -> str:
    """NFKD without combining marks, casefolded: 'Amélie' -> 'amelie', 'Alien³' -> 'alien3'."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.casefold().translate(_LETTER_FOLDS)


def normalize_title(title: str) -> str:
    """Comparison key for a title: folded, '&' -> 'and', punctuation -> space, leading article dropped."""
    text = fold(_move_trailing_article(" ".join(title.split())))
    text = text.replace("&", " and ")
    text = "".join(ch if ch.isalnum() else " " for ch in text)  # "WALL·E" -> "wall e"
    tokens = text.split()
    # Dropped rather than moved so that "Matrix" and "The Matrix" compare equal; never drop the
    # only word (a film called "The").
    if len(tokens) > 1 and tokens[0] in LEADING_ARTICLES:
        tokens = tokens[1:]
    return " ".join(tokens)
