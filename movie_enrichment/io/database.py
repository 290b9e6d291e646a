"""The movie database file: reading it once, telling its format, and writing it back in the same format."""

import contextlib
import dataclasses
import gc
import json
import logging
import re
import zlib
from typing import Any, Collection, Iterable, Iterator

import apache_beam as beam
import orjson
from apache_beam.io.filesystems import FileSystems

from movie_enrichment.io import exactjson, files, lock, progress

_LOGGER = logging.getLogger(__name__)

FORMAT_OBJECT = "object"  # {"Title": {...}, ...}: the users' main format
FORMAT_ARRAY = "array"  # [{...}, {...}]
FORMAT_JSONL = "jsonl"  # one JSON value per line

_UTF8_BOM = b"\xef\xbb\xbf"
_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")


def position_key(index: int) -> str:
    """The key of a record of an array or JSON Lines file: its position, `#0`, `#1`, ... (never a title)."""
    return f"#{index}"


def is_position_key(key: str) -> bool:
    return key.startswith("#") and key[1:].isdigit()


class DatabaseError(ValueError):
    """A fatal problem with the database file; its message is one line that names the problem."""


# What a key the database holds more than once does: keep its last record (as every JSON parser does), or stop.
KEEP_LAST, FAIL = "keep_last", "fail"
ON_DUPLICATE_KEYS = (KEEP_LAST, FAIL)
# Beam metrics of the read: how many keys the file holds more than once, and (some of) their names.
DUPLICATE_KEYS_METRIC = "duplicate_keys"
DUPLICATE_NAMES_METRIC = "duplicate_key_names"
_NAMED_DUPLICATES = 20


def describe_duplicates(duplicates: Iterable[tuple[str, int]], limit: int = 3) -> str:
    """`"Heat" (2 times), "Alien" (3 times) and 4 more`: the first duplicated keys, for one line."""
    duplicates = list(duplicates)
    named = ", ".join(f"{orjson.dumps(key).decode()} ({count} times)" for key, count in duplicates[:limit])
    more = len(duplicates) - limit
    return named + (f" and {more} more" if more > 0 else "")


def duplicates_from_metric(values: Iterable[str]) -> list[tuple[str, int]]:
    """The (key, count) pairs of the `duplicate_key_names` metric, in the file's order."""
    return [(key, count) for _, key, count in sorted(orjson.loads(value) for value in values)]


def check_duplicates(snapshot: "Snapshot", on_duplicate_keys: str) -> None:
    """Stops the run (`--on_duplicate_keys fail`) when the input holds a key more than once.

    Raises:
        DatabaseError: one line naming the first duplicated keys.
    """
    if snapshot.duplicates and on_duplicate_keys == FAIL:
        count = len(snapshot.duplicates)
        raise DatabaseError(
            f"input holds {count} key{'s' if count > 1 else ''} more than once: "
            f"{describe_duplicates(snapshot.duplicates)}; nothing was written "
            f"(--on_duplicate_keys keep_last keeps the last record of each): {snapshot.path}")


@dataclasses.dataclass
class Snapshot:
    """The input database as read once: its raw bytes and how to write it back the same way.

    The bytes travel with the snapshot to the sink, except where the sink runs in the process that read them
    (the local engine): there the snapshot is pickled without them and takes them back from this process, so
    Beam does not copy the whole database through its data plane. A sink in another process (multi-process
    mode, a distributed runner) reads the file again and checks that it is the same file.
    """

    path: str
    data: bytes | None
    format: str
    bom: bool = False
    indent: int | None = None  # None: compact
    # Records merged in from other files (`--watch`), appended after the file's own records when written.
    additions: tuple = ()
    size: int = -1
    crc: int = 0
    # Where each of the file's records is in `data`, so that a record the run does not change is written back
    # as its original bytes; None when the records cannot be put back by position (duplicate keys).
    layout: exactjson.Layout | None = None
    # Keys the file holds more than once, with how often: only the last record of each is kept.
    duplicates: tuple[tuple[str, int], ...] = ()

    def __post_init__(self):
        if self.data is not None and self.size < 0:
            self.size, self.crc = len(self.data), zlib.crc32(self.data)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        if self._cache_key() in _HELD:
            state["data"] = None
        return state

    def bytes(self) -> bytes:
        """The database file's bytes as read, from this process if it holds them, else read again and checked."""
        if self.data is None:
            held = _HELD.get(self._cache_key())
            if held is None:
                held = read_bytes(self.path)
                if len(held) != self.size or zlib.crc32(held) != self.crc:
                    raise DatabaseError(f"the input changed while the run was going: {self.path}")
            self.data = held
        return self.data

    def same_as(self, size: int, crc: int) -> bool:
        """Whether a file of this size and CRC-32 is the file as this snapshot read it."""
        return size == self.size and crc == self.crc

    def offer(self, data: bytes) -> None:
        """Gives the snapshot the file's bytes, read again and found the same (`same_as`) by a sink that does not
        hold them, so that it need not read them once more."""
        if self.data is None and self._cache_key() not in _HELD:
            self.data = data

    def release(self) -> None:
        """Drops the bytes and records this process keeps for the sink (it writes another version instead)."""
        _PARSED.pop(self._cache_key(), None)
        _HELD.pop(self._cache_key(), None)
        self.data = None

    def items(self) -> list[tuple[str, Any]]:
        """Every (key, record) of the database to write: the file's own, then the additions.

        Where the sink runs in the process that read the file (the local runner), the records parsed then are
        taken back instead of parsing the file a second time; elsewhere the bytes are parsed again.
        """
        items = _PARSED.pop(self._cache_key(), None)
        if items is None:
            _, items = parse_snapshot(self.path, self.bytes())
        return items + list(self.additions)

    def remember(self, items: list[tuple[str, Any]]) -> None:
        """Keeps the bytes and the parsed records in this process for the sink of the same run."""
        _PARSED[self._cache_key()] = items
        _HELD[self._cache_key()] = self.data

    def _cache_key(self) -> tuple[str, int, int]:
        return self.path, self.size, self.crc


# What the read keeps for the sink of the same run in the same process (see Snapshot).
_PARSED: dict[tuple[str, int, int], list] = {}
_HELD: dict[tuple[str, int, int], bytes] = {}


_PRELOADED: dict[str, tuple[tuple[int, int, int] | None, Snapshot, list]] = {}


def forget_parsed() -> None:
    """Drops what a run kept for its sink; called by the launcher once the run is over."""
    _PARSED.clear()
    _HELD.clear()
    _PRELOADED.clear()


def preload(path: str, signature: tuple[int, int, int], snapshot: Snapshot, items: list) -> None:
    """Hands a file read and parsed before the pipeline started (`transforms.headstart`) to the pipeline's read,
    which takes it instead of reading the file again while the file's `files.signature` is still `signature`
    (taken before that read)."""
    _PRELOADED[path] = (signature, snapshot, items)


def _take_preloaded(path: str) -> tuple[Snapshot, list] | None:
    entry = _PRELOADED.pop(path, None)
    if entry is None:
        return None
    signature, snapshot, items = entry
    return (snapshot, items) if files.signature(path) == signature else None


def read_bytes(path: str) -> bytes:
    """Reads a whole file through Beam's FileSystems, with one clear error for each way it can fail."""
    try:
        if not FileSystems.exists(path):
            raise DatabaseError(f"input file not found: {path}")
        with FileSystems.open(path) as handle:
            return handle.read()
    except IsADirectoryError:
        raise DatabaseError(f"input is a directory, not a file: {path}") from None
    except PermissionError:
        raise DatabaseError(f"input file is not readable (permission denied): {path}") from None
    except DatabaseError:
        raise
    except OSError as error:
        if "directory" in str(error).lower():
            raise DatabaseError(f"input is a directory, not a file: {path}") from None
        raise DatabaseError(f"cannot read input {path}: {error.strerror or error}") from None


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
    bom = data.startswith(_UTF8_BOM)
    body = data[len(_UTF8_BOM):] if bom else data
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
    layout = _shifted(parsed.layout, len(_UTF8_BOM) if bom else 0)
    snapshot = Snapshot(path, data, fmt, bom, _detect_indent(stripped), layout=layout,
                        duplicates=tuple(parsed.duplicates))
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
    offset = len(_UTF8_BOM) if bom else 0
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


def load(path: str) -> tuple[Snapshot, list[tuple[str, Any]]]:
    """Reads and parses a database file once."""
    return parse_snapshot(path, read_bytes(path))


def serialize(snapshot: Snapshot, items: Iterable[tuple[str, Any]], changed: Collection[str] | None = None) -> bytes:
    """Writes (key, record) pairs back in the snapshot's format, indentation and byte-order mark."""
    return b"".join(serialize_chunks(snapshot, items, changed))


# Untouched stretches of the input are written in pieces of at most this many bytes (bounded copies).
_SPLICE_PIECE = 1 << 20


def serialize_chunks(snapshot: Snapshot, items: Iterable[tuple[str, Any]],
                     changed: Collection[str] | None = None) -> Iterator[bytes]:
    """The same bytes as `serialize`, record by record, so that a sink never holds the whole output twice.

    `items` are the snapshot's own records, in their order, then its additions (`Snapshot.items()`, patched or
    not). When `changed` names the keys whose records may differ from the file (the patched ones), every other
    record of the file is written as its original bytes, and so is everything between records: a record the
    run did not change comes back byte for byte whatever the file's layout (indentation, escapes, `8.30`). With
    `changed=None`, or for a file with duplicate keys, every record is written afresh.

    Written afresh, each record is dumped alone and indented one level more by inserting the indentation after
    each newline, which is exactly what dumping the whole object does: JSON strings cannot hold a raw newline.
    """
    if changed is not None and snapshot.layout is not None:
        yield from _spliced(snapshot, items, changed, snapshot.layout)
        return
    if snapshot.bom:
        yield _UTF8_BOM
    if snapshot.format == FORMAT_JSONL:
        for _, record in items:
            yield _dumps(record, None) + b"\n"
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
                yield _nested(record, layout)
                done = layout.value_ends[index]
            continue
        if index == count:
            yield from original(layout.value_ends[count - 1])
            done = layout.value_ends[count - 1]
        yield _addition(snapshot.format, key, record, layout)
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


def _nested(record: Any, layout: exactjson.Layout) -> bytes:
    """A record's value as it sits one level into the file: the file's indentation and line ends."""
    if layout.unit is None:
        return _dumps(record, None)
    unit = layout.unit.decode("ascii")
    body = _dumps(record, 2 if unit == "  " else unit)
    return body.replace(b"\n", layout.newline + layout.unit)


def _addition(fmt: str, key: str, record: Any, layout: exactjson.Layout) -> bytes:
    """A record appended after the file's last one, in the file's layout."""
    value = _nested(record, layout)
    if fmt == FORMAT_JSONL:
        return layout.newline + value
    lead = b"," + (layout.newline + layout.unit if layout.unit is not None else b"")
    if fmt == FORMAT_OBJECT:
        return lead + orjson.dumps(key) + (b": " if layout.unit is not None else b":") + value
    return lead + value


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


def apply_patches(items: Iterable[tuple[str, Any]], patches: dict[str, dict]) -> Iterator[tuple[str, Any]]:
    """Yields the records in their order, each patched record with the patch's top-level fields set."""
    for key, record in items:
        patch = patches.get(key)
        if patch and isinstance(record, dict):
            record = {**record, **patch}
        yield key, record


def merge_new_records(snapshot: Snapshot, items: list[tuple[str, Any]],
                      incoming: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The records of another movie file that the database does not hold yet, keyed as the database keys them.

    An object database is keyed by title: a new file's object keys are kept, and records of an array or JSON
    Lines file are keyed by their title. Existing keys are never overwritten.
    """
    known = {key for key, _ in items}
    added = []
    for key, record in incoming:
        if snapshot.format == FORMAT_OBJECT:
            if is_position_key(key) and isinstance(record, dict) and isinstance(record.get("title"), str):
                key = record["title"]
        else:
            key = position_key(len(items) + len(added))
        if key not in known:
            known.add(key)
            added.append((key, record))
    return added


class _ReadDatabaseFn(beam.DoFn):
    """Reads the whole file once, in a DoFn rather than beam.Create, so the data never travels in the graph."""

    SNAPSHOT = "snapshot"

    def __init__(self, extra_paths: tuple[str, ...] = (), chunk_size: int | None = None,
                 on_duplicate_keys: str = KEEP_LAST, writer_wait: float | None = None):
        self._extra_paths = extra_paths
        self._chunk_size = chunk_size
        self._on_duplicate_keys = on_duplicate_keys
        self._writer_wait = writer_wait

    def process(self, path: str) -> Iterable[Any]:
        # Under the database lock, so that a writer who takes it too is never read half-saved.
        with lock.database_lock(path, timeout=self._writer_wait, command="movie-enrich (reading the database)"):
            snapshot, items = _take_preloaded(path) or load(path)
        _LOGGER.info("Read %d records (%s format) from %s", len(items), snapshot.format, path)
        if snapshot.duplicates:
            _LOGGER.warning("%s holds %d keys more than once: %s; the last record of each is kept", path,
                            len(snapshot.duplicates), describe_duplicates(snapshot.duplicates))
            check_duplicates(snapshot, self._on_duplicate_keys)
            beam.metrics.Metrics.counter(progress.METRICS_NAMESPACE, DUPLICATE_KEYS_METRIC).inc(
                len(snapshot.duplicates))
            names = beam.metrics.Metrics.string_set(progress.METRICS_NAMESPACE, DUPLICATE_NAMES_METRIC)
            for order, (key, count) in enumerate(snapshot.duplicates[:_NAMED_DUPLICATES]):
                names.add(orjson.dumps([order, key, count]).decode())
        additions: list[tuple[str, Any]] = []
        for extra in self._extra_paths:
            _, incoming = load(extra)
            new = merge_new_records(snapshot, items + additions, incoming)
            _LOGGER.info("Merging %d new records from %s", len(new), extra)
            additions += new
        snapshot.additions = tuple(additions)
        snapshot.remember(items)
        yield beam.pvalue.TaggedOutput(self.SNAPSHOT, snapshot)
        records = items + additions
        if self._chunk_size:
            # Tens of thousands of records cost ~100 us each as separate elements; lists of them do not.
            for start in range(0, len(records), self._chunk_size):
                yield records[start:start + self._chunk_size]
        else:
            yield from records


class ReadMovieDatabase(beam.PTransform):
    """Reads the movie database once.

    Args:
        path: the database file, any path Beam's FileSystems can open.
        extra_paths: other movie files whose new records join the database (`--watch`).
        chunk_size: when set, the records come as lists of up to this many (key, record) pairs.
        on_duplicate_keys: `keep_last` (a key the file holds twice keeps its last record; the count and the
            keys go to the `duplicate_keys` metrics) or `fail` (a DatabaseError before anything is emitted).
        writer_wait: seconds to wait for another writer's database lock (`io.lock`; None: as long as it takes).

    Returns a DoOutputsTuple: the main output of (key, record) pairs (or lists of them) and `snapshot`, one
    `Snapshot` that the sink needs to write the file back in the same format.
    """

    def __init__(self, path: str, extra_paths: tuple[str, ...] = (), chunk_size: int | None = None,
                 on_duplicate_keys: str = KEEP_LAST, writer_wait: float | None = lock.WRITER_WAIT_SECONDS):
        super().__init__()
        self._path = path
        self._extra_paths = tuple(extra_paths)
        self._chunk_size = chunk_size
        self._on_duplicate_keys = on_duplicate_keys
        self._writer_wait = writer_wait

    def expand(self, pbegin):
        return (
            pbegin
            | "Path" >> beam.Create([self._path])
            | "Parse" >> beam.ParDo(_ReadDatabaseFn(self._extra_paths, self._chunk_size,
                                                        self._on_duplicate_keys, self._writer_wait)).with_outputs(
                _ReadDatabaseFn.SNAPSHOT, main="records"))
