"""The review list: movies left ambiguous or not found, with their best candidates, as JSON Lines beside the output."""

from typing import Iterable

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from movie_enrichment.io import jsonlines


def read_lines(path: str) -> list[dict]:
    """The lines of an earlier review list, each naming its movie's key (none when it is missing or unreadable)."""
    return [entry for entry in jsonlines.read(path) if isinstance(entry.get("key"), str)]


class _WriteReviewFn(beam.DoFn):
    def __init__(self, path: str):
        self._path = path

    def process(self, _written: dict, entries: list[dict], looked_up: list[str]) -> Iterable[int]:
        # Movies this run did not look up keep their earlier line: their status has not changed.
        redone = set(looked_up)
        kept = [e for e in read_lines(self._path) if e["key"] not in redone]
        lines = sorted(kept + entries, key=lambda e: e["key"])
        if lines:
            jsonlines.write(self._path, lines)
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
