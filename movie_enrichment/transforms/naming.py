"""What a record of an array or JSON Lines file is called where the user reads or writes it (`Naming`): its id
field, its title and year, or its position; chosen once per file (`decide`), then a pure function of each record.

Inside the run such a record is keyed by its position (`#0`, `#1`, ...), which is how the writer puts it back.
A position is a poor name for a person: it shifts whenever a scraper inserts a film. So the review list, the
failures list, `--pins` and `--titles` name the record by a value of its own:

- `--key_field FIELD` or `FIELD+FIELD` (`title+year`), when given: a part that is a role (`title`, `year`,
  `imdb_id`, ...) is read as the match reads it (detected fields, `--field`); any other part is that field
  (a dotted name reaches into an object, as for `--field`).
- else its id field, when every record has one with a value no other record has: the first of `id`/`_id`,
  `uuid`, `movie_id`, `film_id` (in any case and spelling). TMDB and IMDb ids are not used: they are what a
  user writes into a record to correct its match, and the films left to review are mostly those without one.
- else its title and year, as `Heat (1995)` (`Brazil` without a year);
- else its position.

A record without a name of its own, or with one another record has too, keeps its position (`#N`). A keyed object
file's records are named by their key and have no `Naming`.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any, Iterable

from movie_enrichment.transforms import fields

# Field names, compacted (`fields.compact`: case, `_` and `-` ignored), that are a record's own id, best first.
ID_FIELDS = ("id", "uuid", "movieid", "filmid")

_PARSERS = {fields.TITLE: fields.parse_title, fields.ORIGINAL_TITLE: fields.parse_title, fields.YEAR: fields.parse_year}

POSITION, ID_FIELD, TITLE_YEAR, KEY_FIELD = "position", "id field", "title and year", "--key_field"


class KeyFieldError(ValueError):
    """A bad `--key_field`; the message is one line."""


def parse_key_field(text: str) -> tuple[str, ...]:
    """`film_id` -> ("film_id",); `title+year` -> ("title", "year"); raises KeyFieldError."""
    parts = tuple(part.strip() for part in str(text).split("+"))
    if not parts or not all(parts):
        raise KeyFieldError(f"--key_field takes a field or fields joined by + (film_id, title+year); got {text!r}")
    return parts


@dataclasses.dataclass(frozen=True)
class Naming:
    """How the records of one array or JSON Lines file are named (plain data: it travels in the DoFns).

    Args:
        parts: what a name is made of (field names or roles); () names every record by its position.
        roles: the fields the role parts are read from (as the match reads them).
        shared: names that several records have: those records keep their position.
        origin: how the parts were chosen: ID_FIELD, TITLE_YEAR, KEY_FIELD or POSITION.
        unnamed: how many records keep their position (no name of their own, or a shared one).
    """

    parts: tuple[str, ...] = ()
    roles: fields.Roles = fields.DEFAULT_ROLES
    shared: frozenset[str] = frozenset()
    origin: str = POSITION
    unnamed: int = 0

    def own_name(self, record: Any) -> str | None:
        """The name the record's own values make, shared or not; None when its first part has no value.

        The parts after the first are written in brackets and left out where the record has no value for
        them: `Heat (1995)`, `Brazil`."""
        if not self.parts or not isinstance(record, dict):
            return None
        values = [self._value(part, record) for part in self.parts]
        if values[0] is None:
            return None
        name = " ".join([values[0]] + [f"({value})" for value in values[1:] if value is not None])
        return None if fields.is_position_key(name) else name  # never mistaken for another record's position

    def name(self, key: str, record: Any) -> str:
        """The record's name: its own (`own_name`) when no other record has it, else its key (position)."""
        own = self.own_name(record)
        return key if own is None or own in self.shared else own

    def names(self, key: str, record: Any) -> tuple[str, ...]:
        """Every name a pin or a `--titles` entry may give the record: its name, and its position."""
        name = self.name(key, record)
        return (name,) if name == key else (name, key)

    def _value(self, part: str, record: dict) -> str | None:
        if part not in fields.ROLES:
            return _text(fields.field_value(record, part)[1])
        # The file's fields for the role (every one with usable values in the detection's sample), without
        # `Roles.value`'s search of each record's other fields: a name is made for every record of the file.
        parse = _PARSERS.get(part)
        for path in self.roles.for_role(part):
            present, raw = fields.field_value(record, path)
            if present:
                value = parse(raw) if parse else fields.usable(part, path, raw)
                if value not in (None, ()):
                    return _text(value)
        return None

    def describe(self) -> str:
        """How the records are named, for the dry run and the report: `id field 'film_id'`, `title and year, as
        "Heat (1995)"`, `--key_field title+year`, `position (#0, #1, ...)`; with how many keep their position."""
        if not self.parts:
            return "position (#0, #1, ...): no id field of its own in every record, and no titles"
        how = {ID_FIELD: f"id field '{self.parts[0]}'", TITLE_YEAR: 'title and year, as "Heat (1995)"'}.get(
            self.origin, f"--key_field {'+'.join(self.parts)}")
        if self.unnamed:
            many = self.unnamed > 1
            how += (f"; {self.unnamed} record{'s keep their' if many else ' keeps its'} position (#N): no name of "
                    f"{'their' if many else 'its'} own, or one another record has too")
        return how

    def warning(self) -> str | None:
        """With `--key_field`, the one line that says how many records keep their position; else None."""
        if self.origin != KEY_FIELD or not self.unnamed:
            return None
        many = self.unnamed > 1
        return (f"warning: {self.unnamed} record{'s have' if many else ' has'} no name of "
                f"{'their' if many else 'its'} own under --key_field {'+'.join(self.parts)} (no value, or one "
                "another record has too): named by position (#N) in the review list, failures, --pins and --titles")


def _text(value: Any) -> str | None:
    """A value as a name: text (stripped), a whole number, directors joined; None for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        value = ", ".join(value)
    if isinstance(value, str):
        text = " ".join(value.split())
        return text or None
    return None


def _named_by(parts: tuple[str, ...], roles: fields.Roles, records: list[dict], origin: str) -> Naming:
    """The naming by `parts`, with the names several records share and how many records keep their position."""
    naming = Naming(parts, roles, origin=origin)
    names = [naming.own_name(record) for record in records]
    counts = Counter(name for name in names if name is not None)
    shared = frozenset(name for name, count in counts.items() if count > 1)
    unnamed = sum(1 for name in names if name is None or name in shared)
    return dataclasses.replace(naming, shared=shared, unnamed=unnamed)


def _id_fields(records: list[dict]) -> list[str]:
    """The fields of the first record named like an id (`ID_FIELDS`), best first."""
    first = records[0] if records else {}
    found = [(ID_FIELDS.index(fields.compact(name)), name) for name in first
             if isinstance(name, str) and fields.compact(name) in ID_FIELDS]
    return [name for _, name in sorted(found)]


def decide(items: Iterable[tuple[str, Any]], key_field: str | None = None,
           field_overrides: Iterable[tuple[str, str]] = ()) -> Naming:
    """How to name the records of an array or JSON Lines file (see the module's docstring).

    Args:
        items: the file's (position key, record) pairs.
        key_field: `--key_field`, or None for the default.
        field_overrides: `--field` (role, field) pairs, for the role parts.
    """
    records = [record for _, record in items if isinstance(record, dict)]
    roles = fields.detect_roles(records, dict(field_overrides))
    if key_field:
        return _named_by(parse_key_field(key_field), roles, records, KEY_FIELD)
    for field in _id_fields(records):
        naming = _named_by((field,), roles, records, ID_FIELD)
        if not naming.unnamed:
            return naming
    naming = _named_by((fields.TITLE, fields.YEAR), roles, records, TITLE_YEAR)
    return naming if naming.unnamed < len(records) else Naming()


def name_of(naming: Naming | None, key: str, record: Any) -> str:
    """A record's name: by `naming`, or its key where there is none (a keyed file, a database)."""
    return key if naming is None else naming.name(key, record)


def find_named(mapping: dict[str, Any], naming: Naming | None, key: str, record: Any) -> tuple[str | None, Any]:
    """(entry, value) of the first of the record's names (`Naming.names`, else its key) that `mapping` holds, such
    as its pin in `--pins`; (None, None) when none."""
    if not mapping:
        return None, None
    for name in (key,) if naming is None else naming.names(key, record):
        if name in mapping:
            return name, mapping[name]
    return None, None
