"""The review list: movies left ambiguous or not found, with their best candidates, as JSON Lines beside the output."""

from typing import Iterable

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from movie_enrichment.io import files, jsonlines


def read_lines(path: str) -> list[dict]:
    """The lines of an earlier review list, each naming its movie's key (none when it is missing or unreadable)."""
    return [entry for entry in jsonlines.read(path) if isinstance(entry.get("key"), str)]


def encode_line(entry: dict) -> tuple[str, bytes]:
    """(key, the entry's JSON line): what crosses the runner, a few times smaller than the dict it stands for."""
    return entry["key"], jsonlines.encode([entry])


class _WriteReviewFn(beam.DoFn):
    def __init__(self, path: str):
        self._path = path

    def process(self, _written: dict, lines: list[tuple[str, bytes]], looked_up: list[str]) -> Iterable[int]:
        # Movies this run did not look up keep their earlier line: their status has not changed.
        redone = set(looked_up)
        kept = [encode_line(e) for e in read_lines(self._path) if e["key"] not in redone]
        lines = sorted(kept + list(lines), key=lambda line: line[0])
        if lines:
            files.atomic_write(self._path, [data for _key, data in lines], mime_type=jsonlines.MIME_TYPE)
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
    The entries reach the write step as a side input, whole: each is encoded to its line first, as (key, bytes),
    because a list of nested dicts (searches, candidates) held there takes several times the memory of its
    lines: 50,000 films with 47,500 not found peaked at 740 MiB with dicts, 592 MiB with lines (bench/RESULTS.md).
    """

    def __init__(self, path: str, written, looked_up):
        super().__init__()
        self._path = path
        self._written = written
        self._looked_up = looked_up

    def expand(self, entries):
        lines = entries | "Encode" >> beam.Map(encode_line).with_output_types(tuple[str, bytes])
        return self._written | "Write" >> beam.ParDo(
            _WriteReviewFn(self._path), lines=beam.pvalue.AsList(lines),
            looked_up=beam.pvalue.AsList(self._looked_up))
