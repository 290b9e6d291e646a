"""The failures list: this run's failed enrichments as JSON Lines beside the output, written after the database."""

from typing import Iterable

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from movie_enrichment.io import jsonlines
from movie_enrichment.model import Failure


class _WriteFailuresFn(beam.DoFn):
    def __init__(self, path: str):
        self._path = path

    def process(self, _written: dict, failures: list[Failure]) -> Iterable[int]:
        if failures:
            failures = sorted(failures, key=lambda f: (f.key, f.enricher))
            jsonlines.write(self._path, failures)
        elif FileSystems.exists(self._path):
            FileSystems.delete([self._path])  # the movies listed there are enriched now
        yield len(failures)


class WriteFailures(beam.PTransform):
    """Replaces the failures list with this run's failures, or removes it when none failed, once the database
    has been written.

    Args:
        path: the JSON Lines file (`--failures`).
        written: the sink's output; its single element exists only once the database is written.

    Input: one `Failure` per failed enrichment, a line of the list each. Output: how many were listed. The list
    is a side input of the sink's output, so on every runner it is replaced only after the database: when the
    write fails, the sink emits nothing and the list of the previous run stays, as the unchanged database still
    holds those failures. (The launcher could not write it instead: on a distributed runner the failures live on
    the workers.)
    """

    def __init__(self, path: str, written):
        super().__init__()
        self._path = path
        self._written = written

    def expand(self, failures):
        return self._written | "Write" >> beam.ParDo(_WriteFailuresFn(self._path),
                                                     failures=beam.pvalue.AsList(failures))
