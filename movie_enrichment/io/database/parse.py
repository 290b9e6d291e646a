"""Parsing a database file's bytes into its (key, record) pairs and its `Snapshot`, with one-line errors."""

import contextlib
import dataclasses
import gc
import re
from typing import Any, Collection

import orjson

from movie_enrichment.io import exactjson
from movie_enrichment.io.database import style
from movie_enrichment.io.database.snapshot import (
    FORMAT_ARRAY,
    FORMAT_JSONL,
    FORMAT_OBJECT,
    UTF8_BOM,
    DatabaseError,
    Snapshot,
    position_key,
    read_bytes,
)

_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")


def _detect_indent(data: bytes) -> int | None:
    match = re.match(rb"[\[{]\r?\n( +|\t)", data)
    if not match:
        return None
    return len(match.group(1)) if match.group(1) != b"\t" else 2


_NON_JSON_NUMBERS = (b"NaN", b"Infinity", b"-Infinity")


def _decode_error(path: str, error: orjson.JSONDecodeError, line_offset: int = 0,
                  body: bytes = b"") -> DatabaseError:
    reason = error.msg if hasattr(error, "msg") else str(error)
    at = body[getattr(error, "pos", 0) or 0:][:9]
    literal = next((n for n in _NON_JSON_NUMBERS if at.startswith(n)), None)
    if literal:
        reason = f"{literal.decode()} is not a JSON number (JSON has no NaN or Infinity)"
    where = ""
    if getattr(error, "lineno", None):
        where = f" at line {error.lineno + line_offset}, column {error.colno}"
    return DatabaseError(f"input is not valid JSON{where}: {reason} ({path})")


def _describe(value: Any) -> str:
    return {
        str: "a string",
        int: "a number",
        float: "a number",
        bool: "a boolean",
        list: "an array",
        dict: "an object",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def parse_snapshot(path: str, data: bytes) -> tuple[Snapshot, list[tuple[str, Any]]]:
    """Parses the database bytes into (key, record) pairs, keeping what is needed to write it back alike.

    Every value comes back as written (`exactjson`): integers of any size, floats as floats, every key seen.
    A key the file holds twice is kept once, with its last record (as JSON parsers do), and listed in
    `Snapshot.duplicates`.

    Raises:
        DatabaseError: the file is empty, not JSON, not UTF-8, or holds no movie records.
    """
    with _collector_paused():
        return _parse_snapshot(path, data)


@contextlib.contextmanager
def _collector_paused():
    """Pauses Python's cyclic garbage collector while a database is parsed.

    Parsing creates millions of dicts and lists, and each few hundred of them set off a collection that walks
    every tracked object made so far: on a 100 MB database that is about two thirds of the parse's time
    (1.5 s of CPU with the collector, 0.45 s without, measured with orjson alone). Parsed JSON holds no
    reference cycles, so nothing is left for the collector to find; it resumes as it was afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # The new objects go straight to the oldest generation (freeze, then unfreeze), rather than being walked
        # once per generation as soon as the collector resumes.
        gc.freeze()
        gc.unfreeze()
        if enabled:
            gc.enable()


def _parse_snapshot(path: str, data: bytes) -> tuple[Snapshot, list[tuple[str, Any]]]:
    bom = data.startswith(UTF8_BOM)
    body = data[len(UTF8_BOM):] if bom else data
    stripped = body.strip()
    if not stripped:
        raise DatabaseError(f"input is empty: {path}")
    if path.endswith(_JSONL_SUFFIXES):
        _check_utf8(path, body)
        return _jsonl_snapshot(path, data, bom, body)
    parsed = None
    if stripped[:1] in (b"{", b"["):
        try:
            parsed = exactjson.parse_container(body)
        except exactjson.Unreadable as error:
            raise DatabaseError(f"input cannot be read exactly: {error} ({path})") from None
    if parsed is None:
        _check_utf8(path, body)
        try:
            value = orjson.loads(body)
        except orjson.JSONDecodeError as error:
            # Several JSON values one per line is JSON Lines, whatever the file is called.
            if stripped[:1] == b"{" and b"\n" in stripped:
                try:
                    return _jsonl_snapshot(path, data, bom, body)
                except DatabaseError:
                    pass
            raise _decode_error(path, error, body=body) from None
        if isinstance(value, (dict, list)):
            raise DatabaseError(f"input cannot be read exactly: its top level could not be followed ({path})")
        raise DatabaseError(
            f"input must be a JSON object keyed by title, a JSON array of movies or JSON Lines, "
            f"but it is {_describe(value)}: {path}")
    if parsed.is_object:
        items, fmt = parsed.items, FORMAT_OBJECT
    else:
        items, fmt = [(position_key(index), record) for index, record in parsed.items], FORMAT_ARRAY
    if items and not any(isinstance(record, dict) for _, record in items):
        kinds = sorted({_describe(record) for _, record in items})
        raise DatabaseError(
            f"input holds no movie records: every record is {' or '.join(kinds)}, not an object: {path}")
    layout = _shifted(parsed.layout, len(UTF8_BOM) if bom else 0)
    snapshot = Snapshot(path, data, fmt, bom, _detect_indent(stripped), layout=layout,
                        duplicates=tuple(parsed.duplicates), style=style.detect(body, parsed.spans, parsed.is_object))
    return snapshot, items


def _check_utf8(path: str, body: bytes) -> None:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DatabaseError(f"input is not valid UTF-8 (byte offset {error.start}): {path}") from None


def _shifted(layout: exactjson.Layout | None, offset: int) -> exactjson.Layout | None:
    """The layout with offsets into the whole file (after a byte-order mark of `offset` bytes)."""
    if layout is None or not offset:
        return layout
    def shift(column):
        return exactjson.column(v + offset for v in column)
    return dataclasses.replace(layout, value_starts=shift(layout.value_starts), value_ends=shift(layout.value_ends),
                               key_starts=shift(layout.key_starts))


def _jsonl_snapshot(path: str, data: bytes, bom: bool, body: bytes) -> tuple[Snapshot, list[tuple[str, Any]]]:
    items, starts, ends = [], [], []
    offset = len(UTF8_BOM) if bom else 0
    view = memoryview(body)
    position, number = 0, 0
    while position < len(body):
        end = body.find(b"\n", position)
        end = len(body) if end == -1 else end
        number += 1
        line_end = end - 1 if end > position and body[end - 1] == 13 else end
        if body[position:line_end].strip():
            try:
                record = exactjson.parse_line(view[position:line_end])
            except orjson.JSONDecodeError as error:
                raise DatabaseError(
                    f"input is not valid JSON Lines at line {number}: {getattr(error, 'msg', error)} ({path})"
                ) from None
            except exactjson.Unreadable as error:
                raise DatabaseError(f"input cannot be read exactly at line {number}: {error} ({path})") from None
            items.append((position_key(len(items)), record))
            starts.append(position + offset)
            ends.append(line_end + offset)
        position = end + 1
    if not items:
        raise DatabaseError(f"input is empty: {path}")
    if not any(isinstance(record, dict) for _, record in items):
        raise DatabaseError(f"input holds no movie records: no line is a JSON object: {path}")
    column = exactjson.column
    layout = exactjson.Layout(column(starts), column(ends), column(starts), None,
                              b"\r\n" if b"\r\n" in body else b"\n")
    return Snapshot(path, data, FORMAT_JSONL, bom, layout=layout), items


def format_from_head(path: str, head: bytes) -> str | None:
    """The format a file's first bytes (`head`) show, as `parse_snapshot` would find it, without reading the rest:
    FORMAT_JSONL by its name, FORMAT_ARRAY, FORMAT_JSONL for a whole object on the first line followed by more,
    FORMAT_OBJECT for an object that goes on past its first line (a keyed file written over lines); None when they
    do not tell (an object on one line, which may be all there is, or no JSON at all)."""
    if path.endswith(_JSONL_SUFFIXES):
        return FORMAT_JSONL
    body = head.removeprefix(UTF8_BOM).lstrip()
    if body[:1] == b"[":
        return FORMAT_ARRAY
    line, newline, rest = body.partition(b"\n")
    if body[:1] != b"{" or not newline:
        return None
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        return FORMAT_OBJECT
    return FORMAT_JSONL if rest.strip() else None


def load(path: str) -> tuple[Snapshot, list[tuple[str, Any]]]:
    """Reads and parses a database file once."""
    return parse_snapshot(path, read_bytes(path))


class _Unparsed:
    """The value of a record left unparsed (`records` with `wanted`): it can only be written back as its original
    bytes; any encoder refuses it, so that it never reaches a file as something else."""

    def __repr__(self) -> str:
        return "UNPARSED"


UNPARSED = _Unparsed()


def records(snapshot: Snapshot, wanted: Collection[str] | None = None) -> list[tuple[str, Any]]:
    """Every (key, record) of the database as `snapshot` read it, to write: the file's own, then the additions.

    The file's bytes are the snapshot's, or read again and checked to be the same file (`Snapshot.bytes`). With
    `wanted`, the keys of the records the caller will change, and a file whose records can be put back by
    position (`Snapshot.layout`), only those records' values are parsed, each from its own bytes; every other
    value is `UNPARSED`, for a writer that puts those records back as their original bytes
    (`serialize_chunks` with `changed`). A sink that patches 500 records of 50,000 so parses 500, not 50,000.
    """
    data = snapshot.bytes()
    items = None
    if wanted is not None and snapshot.layout is not None:
        items = _some_records(snapshot, data, snapshot.layout, wanted)
    if items is None:
        _, items = parse_snapshot(snapshot.path, data)
    return items + list(snapshot.additions)


def _some_records(snapshot: Snapshot, data: bytes, layout: exactjson.Layout,
                  wanted: Collection[str]) -> list[tuple[str, Any]] | None:
    view = memoryview(data)
    keyed = snapshot.format == FORMAT_OBJECT
    items = []
    try:
        for index in range(len(layout)):
            key = exactjson.key_at(data, layout.key_starts[index]) if keyed else position_key(index)
            if key in wanted:
                value = exactjson.parse_line(view[layout.value_starts[index]:layout.value_ends[index]])
            else:
                value = UNPARSED
            items.append((key, value))
    except (orjson.JSONDecodeError, exactjson.Unreadable):
        return None  # not expected of a file that was read whole; parsed whole again, it says what is wrong
    return items
