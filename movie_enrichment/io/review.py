"""The review list: movies left ambiguous or not found, with their best candidates, as JSON Lines beside the output."""

from typing import Iterable

import apache_beam as beam
import orjson
from apache_beam.io.filesystems import FileSystems

from movie_enrichment.io.files import atomic_write


def read_lines(path: str) -> list[dict]:
    """The lines of an earlier review list (none when it is missing or unreadable)."""
    try:
        if not FileSystems.exists(path):
            return []
        with FileSystems.open(path) as handle:
            data = handle.read()
    except OSError:
        return []
    lines = []
    for line in data.splitlines():
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("key"), str):
            lines.append(entry)
    return lines


class _WriteReviewFn(beam.DoFn):
    def __init__(self, path: str):
        self._path = path

    def process(self, _written: dict, entries: list[dict], looked_up: list[str]) -> Iterable[int]:
        # Movies this run did not look up keep their earlier line: their status has not changed.
        redone = set(looked_up)
        kept = [e for e in read_lines(self._path) if e["key"] not in redone]
        lines = sorted(kept + entries, key=lambda e: e["key"])
        if lines:
            atomic_write(self._path, b"".join(orjson.dumps(e) + b"\n" for e in lines),
                         mime_type="application/x-ndjson")
        elif FileSystems.exists(self._path):
            FileSystems.delete([self._path])  # nothing left to review
        yield len(lines)


class WriteReview(beam.PTransform):
    """Rewrites the review list once the database has been written, or removes it when nothing is left to review.

    Args:
        path: the JSON Lines file (`<output>.review.jsonl`).
        written: the sink's output; its single element exists only once the database is written.
        looked_up: the keys of every movie this run looked up, whatever came of it.

    Input: one dict per movie left ambiguous or not found. Output: how many lines the list holds. Movies not
    looked up this run keep their line of the earlier list; a failed database write leaves the list as it was.
    """

    def __init__(self, path: str, written, looked_up):
        super().__init__()
        self._path = path
        self._written = written
        self._looked_up = looked_up

    def expand(self, entries):
        return self._written | "Write" >> beam.ParDo(
            _WriteReviewFn(self._path), entries=beam.pvalue.AsList(entries),
            looked_up=beam.pvalue.AsList(self._looked_up))
