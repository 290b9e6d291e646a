"""How a database file lays out records one per line (`RecordStyle`), read from its bytes, to write changed ones alike."""

import dataclasses
import re

from movie_enrichment.io import exactjson

# A JSON string, to blank out before looking at a record's separators (a string may hold ", " or ": ").
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')


@dataclasses.dataclass(frozen=True)
class RecordStyle:
    """A file whose records are each compact on their own line (`[\\n    {...},\\n    {...}\\n]`, as
    vega-datasets writes its tables, or the same keyed by title): the bytes around and inside its records.

    A file in another layout has no `RecordStyle`: a compact file (all on one line) and a fully indented one are
    written as the snapshot's `indent` says.
    """

    lead: bytes  # after the comma that ends a record, before the next one: its line end and indentation
    opening: bytes  # between the opening bracket and the first record
    closing: bytes  # between the last record and the closing bracket
    item: str  # between the items of a record: ", " (Python's json.dumps) or "," (orjson, compact writers)
    colon: str  # between a key and its value inside a record
    top_colon: bytes = b": "  # between a record's key and the record (keyed files)
    ascii: bool = False  # non-ASCII characters written as \\u escapes (Python's json.dumps default)

    @property
    def newline(self) -> bytes:
        return b"\r\n" if b"\r\n" in self.lead else b"\n"

    def as_dict(self) -> dict:
        """JSON-ready values (the separators' bytes are ASCII whitespace and punctuation), for `from_dict`."""
        return {name: value.decode("latin-1") if isinstance(value, bytes) else value
                for name, value in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict) -> "RecordStyle":
        kinds = {field.name: field.type for field in dataclasses.fields(cls)}
        return cls(**{name: value.encode("latin-1") if kinds[name] in (bytes, "bytes") else value
                      for name, value in values.items() if name in kinds})


def detect(body: bytes, spans: exactjson.Layout | None, is_object: bool) -> RecordStyle | None:
    """The file's `RecordStyle` when every record is on one line of its own, else None.

    `body` is the file after any byte-order mark and `spans` where its records are (every record, duplicate keys
    included). The separators inside records are read from the first record that is a non-empty object or
    array, outside its strings; a file of empty records and scalars only has no style of its own.
    """
    if spans is None or not len(spans):
        return None
    starts, ends, keys = spans.value_starts, spans.value_ends, spans.key_starts
    count = len(spans)
    sample = None  # the first record that a fully indented file would have written over several lines
    for index in range(count):
        if body.find(b"\n", keys[index], ends[index]) != -1:
            return None  # a record over several lines: fully indented, or no layout to follow
        if sample is None and body[starts[index]] in b"{[" and body[starts[index] + 1:ends[index] - 1].strip():
            sample = index
    if sample is None:
        return None  # only scalars and empty containers: one per line in every layout, nothing to tell
    opening_at = body.find(b"{" if is_object else b"[")
    closing_at = body.rfind(b"}" if is_object else b"]")
    opening, closing = body[opening_at + 1:keys[0]], body[ends[-1]:closing_at]
    if count > 1:
        between = body[ends[0]:keys[1]]
        lead = between[between.index(b",") + 1:]
    else:
        lead = opening
    if b"\n" not in lead or b"\n" not in opening or b"\n" not in closing:
        return None  # records share lines
    first = _STRING.sub(b'""', body[starts[sample]:ends[sample]])
    colon = ": " if b'"": ' in first else ":" if b'"":' in first else None
    item = ", " if re.search(rb"[^ \t], ", first) else "," if b"," in first else None
    colon, item = colon or (": " if item == ", " else ":"), item or (", " if colon == ": " else ",")
    top_colon = b": "
    if is_object:
        key_and_colon = body[keys[0]:starts[0]]
        top_colon = key_and_colon[key_and_colon.rindex(b'"') + 1:]
    ascii = body.isascii() and b"\\u" in body
    return RecordStyle(lead, opening, closing, item, colon, top_colon, ascii)
