"""Writing records back in a snapshot's format, and the records the run did not change as their original bytes."""

import json
from typing import Any, Collection, Iterable, Iterator

import orjson

from movie_enrichment.io import exactjson
from movie_enrichment.io.database.snapshot import FORMAT_JSONL, FORMAT_OBJECT, UTF8_BOM, Snapshot, position_key
from movie_enrichment.io.database.style import RecordStyle


def serialize(snapshot: Snapshot, items: Iterable[tuple[str, Any]], changed: Collection[str] | None = None) -> bytes:
    """Writes (key, record) pairs back in the snapshot's format, indentation and byte-order mark."""
    return b"".join(serialize_chunks(snapshot, items, changed))


# Untouched stretches of the input are written in pieces of at most this many bytes (bounded copies).
_SPLICE_PIECE = 1 << 20


def serialize_chunks(snapshot: Snapshot, items: Iterable[tuple[str, Any]],
                     changed: Collection[str] | None = None) -> Iterator[bytes]:
    """The same bytes as `serialize`, record by record, so that a sink never holds the whole output twice.

    `items` are the snapshot's own records, in their order, then its additions (`parse.records`, patched or
    not). When `changed` names the keys whose records may differ from the file (the patched ones), every other
    record of the file is written as its original bytes, and so is everything between records: a record the
    run did not change comes back byte for byte whatever the file's layout (indentation, escapes, `8.30`). With
    `changed=None`, or for a file with duplicate keys, every record is written afresh.

    Written afresh (changed, or every record), a record is written in the file's layout: compact on its own line
    with the file's separators in a file of one record per line (`Snapshot.style`), else as `indent` says. An
    indented record is dumped alone and indented one level more by inserting the indentation after
    each newline, which is exactly what dumping the whole object does: JSON strings cannot hold a raw newline.
    """
    if changed is not None and snapshot.layout is not None:
        yield from _spliced(snapshot, items, changed, snapshot.layout)
        return
    if snapshot.bom:
        yield UTF8_BOM
    if snapshot.format == FORMAT_JSONL:
        for _, record in items:
            yield _dumps(record, None) + b"\n"
        return
    if snapshot.style is not None:
        yield from _one_per_line(snapshot, snapshot.style, items)
        return
    if snapshot.indent not in (None, 2):
        value: Any = dict(items) if snapshot.format == FORMAT_OBJECT else [record for _, record in items]
        yield _dumps(value, snapshot.indent) + b"\n"
        return
    is_object = snapshot.format == FORMAT_OBJECT
    opening, closing = (b"{", b"}") if is_object else (b"[", b"]")
    newline = b"\n  " if snapshot.indent else b""
    separator = b",\n  " if snapshot.indent else b","
    colon = b": " if snapshot.indent else b":"
    yield opening
    first = True
    for key, record in items:
        body = _dumps(record, snapshot.indent)
        if snapshot.indent:
            body = body.replace(b"\n", b"\n  ")
        prefix = newline if first else separator
        yield prefix + (orjson.dumps(key) + colon if is_object else b"") + body
        first = False
    yield (b"" if first or not snapshot.indent else b"\n") + closing + b"\n"


def _spliced(snapshot: Snapshot, items: Iterable[tuple[str, Any]], changed: Collection[str],
             layout: exactjson.Layout) -> Iterator[bytes]:
    """The file's own bytes, with each changed record's value written afresh in its place and the additions
    appended after the last record."""
    data = snapshot.bytes()
    view = memoryview(data)
    count = len(layout)
    done = 0  # how much of `data` is written

    def original(until: int) -> Iterator[bytes]:
        for start in range(done, until, _SPLICE_PIECE):
            yield bytes(view[start:min(until, start + _SPLICE_PIECE)])

    index = -1
    for index, (key, record) in enumerate(items):
        if index < count:
            if key in changed:
                _check_aligned(snapshot, layout, data, index, key)
                yield from original(layout.value_starts[index])
                yield changed_value(snapshot, record)
                done = layout.value_ends[index]
            continue
        if index == count:
            yield from original(layout.value_ends[count - 1])
            done = layout.value_ends[count - 1]
        yield _addition(snapshot, key, record, layout)
    if index + 1 < count:
        raise ValueError(f"{count} records were read but {index + 1} were given to write")
    yield from original(len(data))


def _check_aligned(snapshot: Snapshot, layout: exactjson.Layout, data: bytes, index: int, key: str) -> None:
    """Refuses to put a record in another record's place (records must come in the file's order)."""
    if snapshot.format == FORMAT_OBJECT:
        same = data.startswith(orjson.dumps(key), layout.key_starts[index]) or \
            exactjson.key_at(data, layout.key_starts[index]) == key  # the file may spell the key with escapes
    else:
        same = key == position_key(index)
    if not same:
        raise ValueError(f"record {key!r} is not the file's record number {index}: records out of order")


def changed_value(snapshot: Snapshot, record: Any) -> bytes:
    """A changed record's value as it goes in its place in the file (between its key, or the comma, and what
    follows it): on one line in a file of one record per line, else indented as the file is (`_nested`)."""
    if snapshot.style is not None:
        return _one_line(record, snapshot.style)
    return _nested(record, snapshot.layout)


def _nested(record: Any, layout: exactjson.Layout) -> bytes:
    """A record's value as it sits one level into the file: the file's indentation and line ends."""
    if layout.unit is None:
        return _dumps(record, None)
    unit = layout.unit.decode("ascii")
    body = _dumps(record, 2 if unit == "  " else unit)
    return body.replace(b"\n", layout.newline + layout.unit)


def _addition(snapshot: Snapshot, key: str, record: Any, layout: exactjson.Layout) -> bytes:
    """A record appended after the file's last one, in the file's layout."""
    fmt, style = snapshot.format, snapshot.style
    if style is not None and fmt != FORMAT_JSONL:
        return b"," + style.lead + (orjson.dumps(key) + style.top_colon if fmt == FORMAT_OBJECT else b"") + \
            _one_line(record, style)
    value = _nested(record, layout)
    if fmt == FORMAT_JSONL:
        return layout.newline + value
    lead = b"," + (layout.newline + layout.unit if layout.unit is not None else b"")
    if fmt == FORMAT_OBJECT:
        return lead + orjson.dumps(key) + (b": " if layout.unit is not None else b":") + value
    return lead + value


def _one_per_line(snapshot: Snapshot, style: RecordStyle, items: Iterable[tuple[str, Any]]) -> Iterator[bytes]:
    """Every record written afresh, each on its own line as the file lays them out."""
    is_object = snapshot.format == FORMAT_OBJECT
    opening, closing = (b"{", b"}") if is_object else (b"[", b"]")
    yield opening
    first = True
    for key, record in items:
        yield (style.opening if first else b"," + style.lead) + \
            (orjson.dumps(key) + style.top_colon if is_object else b"") + _one_line(record, style)
        first = False
    yield (style.closing if not first else b"") + closing + style.newline


def _one_line(record: Any, style: RecordStyle) -> bytes:
    """A record compact on one line, with the file's separators (and its \\u escapes, if it writes them)."""
    if (style.item, style.colon) == (",", ":") and not style.ascii:
        return _dumps(record, None)
    return json.dumps(record, ensure_ascii=style.ascii, separators=(style.item, style.colon)).encode("utf-8")


def _dumps(value: Any, indent: int | str | None) -> bytes:
    """orjson where it can (fast); the stdlib for what orjson refuses: other indentations, nesting deeper
    than 254 levels, integers beyond 64 bits (written with every digit)."""
    if indent in (None, 2):
        try:
            return orjson.dumps(value, option=orjson.OPT_INDENT_2 if indent else 0)
        except orjson.JSONEncodeError:
            pass
    separators = (",", ":") if indent is None else None
    return json.dumps(value, indent=indent, ensure_ascii=False, separators=separators).encode("utf-8")
