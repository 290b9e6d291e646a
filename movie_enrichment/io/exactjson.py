"""Exact reading of a JSON database: every value as written, every top-level key seen, where each record sits.

orjson is fast and exact for almost everything, but it reads an integer beyond 64 bits as a float and, like every
JSON parser, keeps only the last of two equal keys. This module reads the top level itself, so that it sees every
key (duplicates included) and the byte span of every record's value, and gives each record's value to orjson
unless that record holds an integer orjson cannot represent; those records (found by a cheap byte scan) go to the
standard library, whose integers have every digit. Three ways, cheapest first:

- `indented`: a file with one top-level record per line start (any indentation written by a tool: ours, Python's
  `json.dumps(indent=4)`, tabs, CRLF line ends): each record's text is cut at those line starts and parsed alone.
  A cut that is not a record boundary leaves a piece that is not valid JSON, so a file is read this way only if
  every piece parses, which proves the cuts were the record boundaries.
- `canonical`: a one-line file exactly as we write it (orjson's compact form), checked record by record.
- `general`: anything else (one-line files written by other tools, files with no consistent indentation,
  ...): the standard library's scanner walks the top level. About 1.5 times orjson's CPU and the file's text
  decoded in memory, exact for every value. A one-line file read this way is written back in our compact form,
  so the next run takes the `canonical` way (unless it holds integers beyond 64 bits).

Strings: every code point, astral ones included, is kept; an escape (`\\u00e9`) is read as its character. A
lone surrogate escape (`"\\ud800"`) is not a character: such a file is refused (orjson's rule), as NaN and
Infinity are. Floats are IEEE doubles, as in every JSON reader: `8.30` is read as the float 8.3 and a literal
beyond a double's precision as the nearest double; a literal beyond a double's range (`1e400`) is refused.
"""

from __future__ import annotations

import array
import bisect
import collections
import dataclasses
import json
import re
from typing import Any

import orjson

_WHITESPACE = frozenset(b" \t\r\n")
_COMMA = ord(",")
# A JSON string (a key) at a record's start, then the colon.
_KEY = re.compile(rb'("[^"\\]*(?:\\.[^"\\]*)*")[ \t\r\n]*:[ \t\r\n]*')
_OPENING = re.compile(rb"[ \t\r\n]*([\[{])[ \t]*(\r?\n)([ \t]+)(?=[^ \t\r\n])")
# Integers orjson reads exactly: -2**63 .. 2**64-1. Runs of 19 or more digits are the only candidates beyond.
_LONG_DIGITS = b"0" * 19
_DIGITS_ONLY = bytes(48 if 48 <= c <= 57 else 32 for c in range(256))
_SCAN_CHUNK = 1 << 22
_INT_MIN, _INT_MAX = -(2 ** 63), 2 ** 64 - 1
_NUMBER_BEFORE = frozenset(b" \t\r\n:,[")
_NUMBER_AFTER = frozenset(b" \t\r\n,]}")
# What the standard library accepts and orjson (and JSON) refuses: checked with orjson when present.
_LAX = re.compile(r"NaN|Infinity|\\u[dD][89a-fA-F]|[eE][-+]?[0-9]{3}")


class Unreadable(ValueError):
    """Valid JSON that cannot be read exactly (an integer of more than 4300 digits); one line."""


_TOO_MANY_DIGITS = "an integer has more than 4300 digits (Python's limit for reading integers)"


@dataclasses.dataclass
class Layout:
    """Where each record of the file is: offsets into the bytes after any byte-order mark.

    `value_starts[i]:value_ends[i]` is record i's value as written; `key_starts[i]` is where its key's JSON
    string begins (objects only). `unit` is one level of indentation (None: one line) and `newline` the line end.
    """

    value_starts: array.array
    value_ends: array.array
    key_starts: array.array
    unit: bytes | None
    newline: bytes = b"\n"

    def __len__(self) -> int:
        return len(self.value_starts)


@dataclasses.dataclass
class Parsed:
    """A database's records with what a writer needs to give them back as they were."""

    is_object: bool
    items: list[tuple[str | int, Any]]  # (key, value) for objects, (index, value) for arrays
    layout: Layout | None  # None when records cannot be put back by position (duplicate keys)
    duplicates: list[tuple[str, int]]  # keys seen more than once, with how often, in order of first sight
    path: str  # which way it was read: indented, canonical or general
    # Where every record is, duplicate keys included (`layout` without the "put back by position" promise).
    spans: Layout | None = None


def parse_container(body: bytes) -> Parsed | None:
    """Reads a JSON object or array exactly; None when the body is not valid JSON (let orjson say why).

    Raises:
        Unreadable: valid JSON that cannot be read exactly.
    """
    head = _OPENING.match(body)
    if head:
        parsed = _indented(body, head)
        if parsed is not None:
            return parsed
    return _canonical(body) or _general(body)


def long_integer_positions(data: bytes | memoryview, start: int = 0, end: int | None = None) -> list[int]:
    """Where an integer literal that orjson cannot read exactly may start (a superset: it may be in a string).

    A byte scan: digits are mapped to one byte and runs of 19 are searched for, in chunks so that the copy stays
    small. 19 digits is the shortest integer beyond orjson's range (-2**63 .. 2**64-1).
    """
    end = len(data) if end is None else end
    found = []
    run_end = -1
    for offset in range(start, end, _SCAN_CHUNK):
        chunk = bytes(data[offset:min(end, offset + _SCAN_CHUNK + len(_LONG_DIGITS) - 1)]).translate(_DIGITS_ONLY)
        hit = chunk.find(_LONG_DIGITS)
        while hit != -1:
            where = offset + hit
            if where > run_end:
                first, last = where, where + len(_LONG_DIGITS)
                while first > start and 48 <= data[first - 1] <= 57:
                    first -= 1
                while last < end and 48 <= data[last] <= 57:
                    last += 1
                if _is_out_of_range_integer(data, first, last, start, end):
                    found.append(first)
                run_end = last
            hit = chunk.find(_LONG_DIGITS, hit + len(_LONG_DIGITS))
    return found


def _is_out_of_range_integer(data, first: int, last: int, start: int, end: int) -> bool:
    """Whether the digits data[first:last] look like an integer token beyond orjson's exact range."""
    before = first - 1
    negative = before >= start and data[before] == ord("-")
    if negative:
        before -= 1
    if before >= start and data[before] not in _NUMBER_BEFORE:
        return False  # inside a string, or the fraction or exponent of a float
    if last < end and data[last] not in _NUMBER_AFTER:
        return False  # a float (".", "e") or inside a string
    if last - first > 30:
        return True
    value = int(bytes(data[first:last]))
    return not _INT_MIN <= (-value if negative else value) <= _INT_MAX


def _exact(text: bytes | memoryview) -> Any:
    """The standard library's reading of one valid JSON value: integers with every digit."""
    try:
        return json.loads(bytes(text))
    except ValueError as error:
        if "digits" in str(error):
            raise Unreadable(_TOO_MANY_DIGITS) from None
        raise


def column(values) -> array.array:
    """Offsets, compactly (8 bytes each)."""
    return array.array("q", values)


def _finish(is_object: bool, pairs: list, starts: list, ends: list, key_starts: list, unit: bytes | None,
            newline: bytes, path: str) -> Parsed:
    duplicates: list[tuple[str, int]] = []
    spans = Layout(column(starts), column(ends), column(key_starts), unit, newline) if pairs else None
    layout = spans
    if is_object:
        counts = collections.Counter(key for key, _ in pairs)
        if len(counts) != len(pairs):
            duplicates = [(key, n) for key, n in counts.items() if n > 1]
            pairs = list(dict(pairs).items())  # the last value of a key, at the first one's place
            layout = None
    return Parsed(is_object, pairs, layout, duplicates, path, spans)


def _indented(body: bytes, head: re.Match) -> Parsed | None:
    """Cuts the top level at the lines that start one indentation level in, and parses each piece alone."""
    is_object = head.group(1) == b"{"
    newline, unit = head.group(2), head.group(3)
    first = head.end()
    close = len(body.rstrip()) - 1
    if close <= first or body[close] != (b"}" if is_object else b"]")[0]:
        return None
    lead = b"\n" + unit
    marker = re.compile(re.escape(lead) + (b'"' if is_object else rb"[^ \t\r\n\]}]"))
    starts = [m.start() + len(lead) for m in marker.finditer(body, first - len(lead), close)]
    if not starts or starts[0] != first:
        return None
    view = memoryview(body)
    loads = orjson.loads
    pairs, value_starts, value_ends, key_starts = [], [], [], []
    count = len(starts)
    try:
        for index, start in enumerate(starts):
            end = starts[index + 1] - len(lead) if index + 1 < count else close
            while body[end - 1] in _WHITESPACE:
                end -= 1
            if index + 1 < count:
                if body[end - 1] != _COMMA:
                    return None
                end -= 1
                while body[end - 1] in _WHITESPACE:
                    end -= 1
            if is_object:
                key_match = _KEY.match(body, start, end)
                if key_match is None:
                    return None
                key = loads(body[start:key_match.end(1)])
                value_start = key_match.end()
            else:
                key, value_start = index, start
            pairs.append((key, loads(body[value_start:end])))
            value_starts.append(value_start)
            value_ends.append(end)
            key_starts.append(start)
    except orjson.JSONDecodeError:
        return None
    for where in long_integer_positions(view, first, close):
        index = bisect.bisect_right(value_starts, where) - 1
        if index >= 0 and where < value_ends[index]:
            pairs[index] = (pairs[index][0], _exact(view[value_starts[index]:value_ends[index]]))
    return _finish(is_object, pairs, value_starts, value_ends, key_starts, unit, newline, "indented")


def _canonical(body: bytes) -> Parsed | None:
    """A one-line file exactly as orjson writes it: each record is found by writing it again and comparing."""
    if b"\n" in body.rstrip():
        return None
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(value, (dict, list)) or not value:
        return None
    dumps = orjson.dumps
    is_object = isinstance(value, dict)
    offset = len(body) - len(body.lstrip())
    position = offset + 1
    pairs, value_starts, value_ends, key_starts = [], [], [], []
    try:
        for index, (key, record) in enumerate(value.items() if is_object else enumerate(value)):
            if index:
                if body[position] != _COMMA:
                    return None
                position += 1
            key_starts.append(position)
            if is_object:
                written = dumps(key) + b":"
                if not body.startswith(written, position):
                    return None
                position += len(written)
            written = dumps(record)
            if not body.startswith(written, position):
                return None  # not our compact form, or a float that was an integer beyond 64 bits
            value_starts.append(position)
            position += len(written)
            value_ends.append(position)
            pairs.append((key, record))
    except orjson.JSONEncodeError:
        return None  # nested deeper than orjson writes
    if body.rstrip() != body[:position + 1] or body[position:position + 1] != (b"}" if is_object else b"]"):
        return None
    return _finish(is_object, pairs, value_starts, value_ends, key_starts, None, b"\n", "canonical")


def _general(body: bytes) -> Parsed | None:
    """The standard library's scanner over the top level: exact integers, every key, each record's span."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if _LAX.search(text):
        try:
            orjson.loads(body)  # NaN, Infinity, 1e400 and lone surrogates are refused, as orjson refuses them
        except orjson.JSONDecodeError:
            return None
    scan = json.JSONDecoder().scan_once
    scanstring = json.decoder.scanstring
    space = re.compile(r"[ \t\r\n]*")
    position = space.match(text).end()
    is_object = text[position:position + 1] == "{"
    if not is_object and text[position:position + 1] != "[":
        return None
    closer = "}" if is_object else "]"
    position = space.match(text, position + 1).end()
    pairs, value_starts, value_ends, key_starts = [], [], [], []
    try:
        if text[position:position + 1] != closer:
            while True:
                key_starts.append(position)
                if is_object:
                    if text[position:position + 1] != '"':
                        return None
                    key, position = scanstring(text, position + 1)
                    position = space.match(text, position).end()
                    if text[position:position + 1] != ":":
                        return None
                    position = space.match(text, position + 1).end()
                else:
                    key = len(pairs)
                value_starts.append(position)
                value, position = scan(text, position)
                value_ends.append(position)
                pairs.append((key, value))
                position = space.match(text, position).end()
                if text[position:position + 1] == closer:
                    break
                if text[position:position + 1] != ",":
                    return None
                position = space.match(text, position + 1).end()
        if text[position + 1:].strip(" \t\r\n"):
            return None
    except StopIteration:
        return None
    except RecursionError:
        raise Unreadable("values are nested too deeply to read exactly") from None
    except ValueError as error:
        if "digits" in str(error):
            raise Unreadable(_TOO_MANY_DIGITS) from None
        return None
    if not text.isascii():
        value_starts, value_ends, key_starts = _byte_offsets(text, value_starts, value_ends, key_starts)
    newline = b"\r\n" if b"\r\n" in body else b"\n"
    parsed = _finish(is_object, pairs, value_starts, value_ends, key_starts, _unit(body), newline, "general")
    if b"\n" not in body.strip():
        # One line that is not our compact form: splicing cannot make a smaller diff of a single line, and
        # written afresh (in our form) the file takes the fast `canonical` way from the next run on.
        parsed.layout = None
    return parsed


def _unit(body: bytes) -> bytes | None:
    match = _OPENING.match(body)
    return match.group(3) if match else None


def _byte_offsets(text: str, *columns: list[int]) -> list[list[int]]:
    """Character offsets into `text` as byte offsets into its UTF-8 form."""
    marks = sorted(set().union(*columns))
    to_bytes, done, previous = {}, 0, 0
    for mark in marks:
        done += len(text[previous:mark].encode("utf-8", "surrogatepass"))
        to_bytes[mark] = done
        previous = mark
    return [[to_bytes[c] for c in column] for column in columns]


def parse_line(line: bytes | memoryview) -> Any:
    """One JSON Lines record, exactly (orjson, or the standard library for integers beyond 64 bits).

    Raises:
        orjson.JSONDecodeError: the line is not valid JSON.
    """
    value = orjson.loads(line)
    if long_integer_positions(line):
        value = _exact(line)
    return value


def key_at(data: bytes, start: int) -> str | None:
    """The key whose JSON string begins at data[start], or None."""
    match = _KEY.match(data, start)
    return orjson.loads(match.group(1)) if match else None
