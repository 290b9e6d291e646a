"""Reading the movie database in a pipeline (`ReadMovieDatabase`): the file once, under the writers' lock."""

import logging
from typing import Any, Iterable

import apache_beam as beam

from movie_enrichment.io import lock
from movie_enrichment.io.database.duplicates import KEEP_LAST, report_duplicates
from movie_enrichment.io.database.merge import merge_new_records
from movie_enrichment.io.database.parse import load

_LOGGER = logging.getLogger(__name__)


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
            snapshot, items = load(path)
        _LOGGER.info("Read %d records (%s format) from %s", len(items), snapshot.format, path)
        report_duplicates(snapshot, self._on_duplicate_keys)
        additions: list[tuple[str, Any]] = []
        for extra in self._extra_paths:
            _, incoming = load(extra)
            new = merge_new_records(snapshot, items + additions, incoming)
            _LOGGER.info("Merging %d new records from %s", len(new), extra)
            additions += new
        snapshot.additions = tuple(additions)
        # The bytes stay here: the sink reads the file again and checks it is this one (size and CRC-32).
        yield beam.pvalue.TaggedOutput(self.SNAPSHOT, snapshot.without_bytes())
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
    `Snapshot` (without the file's bytes) that the sink needs to write the file back in the same format.
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
