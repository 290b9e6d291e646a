"""The review list: movies left ambiguous or not found, with their best candidates, as JSON Lines beside the output."""

from typing import Iterable, Iterator

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from movie_enrichment.io import files, jsonlines
from movie_enrichment.io.sink import spool

# The status of a record matched to the film another record is matched to too (`transforms.shared`): found again
# over the whole database each run, so the earlier list's such lines are never kept.
SHARED = "shared"


def encode_line(entry: dict) -> tuple[str, bytes]:
    """(key, the entry's JSON line): what is spooled, a few times smaller than the dict it stands for."""
    return entry["key"], jsonlines.encode([entry])


def spool_dir_for(path: str) -> str:
    """Where the review lines wait for the write step: `movies.json.review.jsonl.spool`, beside the list."""
    return files.beside(path, ".spool")


def _kept_lines(path: str, redone: set[str]) -> Iterator[tuple[str, bytes]]:
    """The earlier list's lines of the movies not looked up again, but for the shared matches (found again each
    run), one entry decoded at a time."""
    for entry in jsonlines.iterate(path):
        if isinstance(entry.get("key"), str) and entry["key"] not in redone and entry.get("status") != SHARED:
            yield encode_line(entry)


class _WriteReviewFn(beam.DoFn):
    """The write step: the earlier list's kept lines and this run's spooled ones, in key order, then the spool
    removed. Like the sink's, it may run again: the spool stays until the list is written, and a record of that
    (`spool.record_commit`) tells a retry that nothing is left to do."""

    def __init__(self, path: str, spool_dir: str):
        self._path = path
        self._spool_dir = spool_dir

    def process(self, _written: dict, spooled: list[str], looked_up: Iterable[str]) -> Iterable[int]:
        done = spool.committed(self._spool_dir, spooled, self._path)  # by an earlier attempt
        if done is not None:
            if "lines" in done:
                yield done["lines"]
            spool.remove_spool(self._spool_dir, spooled)
            return
        # Only (key, line) pairs are held, never the entries as dicts: about the lines' size in all.
        lines = list(_kept_lines(self._path, set(looked_up)))
        lines.extend(spool.read_spool(spooled))
        lines.sort(key=lambda line: line[0])
        if lines:
            files.atomic_write(self._path, (data for _key, data in lines), mime_type=jsonlines.MIME_TYPE)
        elif FileSystems.exists(self._path):
            FileSystems.delete([self._path])  # nothing left to review
        count = len(lines)
        del lines
        if spool.record_commit(self._spool_dir, spooled, {"lines": count}):
            spool.remove_spool(self._spool_dir, spooled)
        yield count


class WriteReview(beam.PTransform):
    """Rewrites the review list once the database has been written, or removes it when nothing is left to review.

    Args:
        path: the JSON Lines file (`<output>.review.jsonl`).
        written: the sink's output; its single element exists only once the database is written.
        looked_up: the keys of every movie this run looked up, whatever came of it.
        spool_dir: where the entries wait for the write step, this list's alone (default `spool_dir_for(path)`);
            removed once the list is written.

    Input: one dict per movie left ambiguous or not found, or a tuple of PCollections of them (each is spooled
    apart, then only the files' paths are flattened). Output: how many lines the list holds. Movies not
    looked up this run keep their line of the earlier list; a failed database write leaves the list as it was.
    Each entry is encoded to its line and spooled to a file as it comes, as the sink's patches are: only the
    files' paths reach the write step through the runner. As a side input, the entries were held whole by the
    local engine, decoded and encoded again: 50,000 films with 47,500 not found peaked at 740 MiB with dicts,
    592 MiB with lines, and above the all-matched run with either (bench/RESULTS.md, scenario M).
    """

    def __init__(self, path: str, written, looked_up, spool_dir: str | None = None):
        super().__init__()
        self._path = path
        self._written = written
        self._looked_up = looked_up
        self._spool_dir = spool_dir or spool_dir_for(path)

    def expand(self, entries):
        # Each part spooled where it is made: a Flatten of the entries before the spool would have the local engine
        # hold them all in a buffer until the later part is done (a Flatten of stages is materialised).
        parts = entries if isinstance(entries, tuple) else (entries,)
        spooled = tuple(part | ("Spool" if n == 0 else f"Spool{n + 1}") >> beam.ParDo(
            spool.SpoolFn(self._spool_dir, encode_line, "review")) for n, part in enumerate(parts))
        if len(spooled) > 1:
            spooled = spooled | "SpooledFiles" >> beam.Flatten()
        else:
            spooled = spooled[0]
        return self._written | "Write" >> beam.ParDo(
            _WriteReviewFn(self._path, self._spool_dir), spooled=beam.pvalue.AsList(spooled),
            looked_up=beam.pvalue.AsIter(self._looked_up))
