"""Reading and writing a database store in a Beam pipeline: key-range reads and per-batch transactions.

The read is `Impulse | PlanRanges | Reshuffle | ReadRange`, not a `BoundedSource`: the ranges come from one
indexed query at run time (the positions of the selected rows), a reshuffle hands them to every worker, and
each worker reads its ranges on its own connection. That is Beam's "ReadAll" shape (as `ReadAllFromText`
and JDBC's `ReadAll`): it splits as finely as a source would for a selection of a few thousand rows, needs no
range tracker over text keys, and runs the same on every runner. Liquid re-splitting of one range, the only
thing a source adds, buys nothing when each range is a few hundred rows.
"""

import logging
from typing import Any, Iterable

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.windowed_value import WindowedValue

from movie_enrichment.io import progress
from movie_enrichment.io.stores import Selection, Store, open_store, redact_url
from movie_enrichment.model import NAMESPACE

_LOGGER = logging.getLogger(__name__)


class _StoreDoFn(beam.DoFn):
    """Holds one open store per DoFn instance: opened in setup(), closed in teardown()."""

    def __init__(self, url: str, table: str):
        self._url = url
        self._table = table
        self._store: Store | None = None

    def setup(self) -> None:
        self._store = open_store(self._url, self._table, create=False)

    def teardown(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


class _PlanRangesFn(_StoreDoFn):
    def __init__(self, url: str, table: str, selection: Selection | None, rows_per_range: int):
        super().__init__(url, table)
        self._selection = selection
        self._rows_per_range = rows_per_range

    def process(self, _unused) -> Iterable[tuple[int, int]]:
        ranges = self._store.key_ranges(self._selection, self._rows_per_range)
        _LOGGER.info("Reading %s in %d key ranges", self._store.describe(), len(ranges))
        yield from ranges


class _ReadRangeFn(_StoreDoFn):
    def __init__(self, url: str, table: str, selection: Selection | None, chunk_size: int):
        super().__init__(url, table)
        self._selection = selection
        self._chunk_size = chunk_size

    def setup(self) -> None:
        super().setup()
        self._rows = Metrics.counter(NAMESPACE, "rows_read")

    def process(self, pos_range: tuple[int, int]) -> Iterable[list[tuple[str, Any]]]:
        chunk: list[tuple[str, Any]] = []
        for item in self._store.read(self._selection, pos_range):
            chunk.append(item)
            if len(chunk) >= self._chunk_size:
                self._rows.inc(len(chunk))
                yield chunk
                chunk = []
        if chunk:
            self._rows.inc(len(chunk))
            yield chunk


class ReadStore(beam.PTransform):
    """Reads the rows of a database store that a selection may pick, by ranges of its ordering key.

    Args:
        url: the store's URL.
        table: its table.
        selection: what the run may enrich (None: every row).
        rows_per_range: selected rows per range, the unit of parallel reading.
        chunk_size: rows per output element.

    Output: lists of (key, record), like `ReadMovieDatabase(chunk_size=...)`.
    """

    def __init__(self, url: str, table: str, selection: Selection | None, rows_per_range: int = 2000,
                 chunk_size: int = 1000):
        super().__init__()
        self._args = (url, table, selection)
        self._rows_per_range = rows_per_range
        self._chunk_size = chunk_size

    def expand(self, pbegin):
        return (pbegin
                | "Start" >> beam.Impulse()
                | "PlanRanges" >> beam.ParDo(_PlanRangesFn(*self._args, self._rows_per_range))
                | "Spread" >> beam.Reshuffle()
                | "ReadRange" >> beam.ParDo(_ReadRangeFn(*self._args, self._chunk_size)))


class _WriteStoreFn(_StoreDoFn):
    """Writes patches in transactions of up to `batch_size` rows: each transaction is a checkpoint."""

    def __init__(self, url: str, table: str, run_id: str, batch_size: int):
        super().__init__(url, table)
        self._run_id = run_id
        self._batch_size = batch_size
        self._pending: list[tuple[str, dict]] = []
        self._keys: set[str] = set()

    def setup(self) -> None:
        super().setup()
        self._written = Metrics.counter(NAMESPACE, "rows_written")
        self._transactions = Metrics.counter(NAMESPACE, "write_transactions")

    def start_bundle(self) -> None:
        self._pending, self._keys = [], set()

    def process(self, element: tuple[str, dict]) -> Iterable[int]:
        key, patch = element
        if not patch:
            return
        self._pending.append((key, patch))
        self._keys.add(key)
        if len(self._keys) >= self._batch_size:
            yield self._flush()

    def finish_bundle(self):
        if self._pending:
            yield WindowedValue(self._flush(), 0, [GlobalWindow()])

    def _flush(self) -> int:
        pending, self._pending, self._keys = self._pending, [], set()
        changed = self._store.write_patches(self._run_id, pending)
        self._written.inc(changed)
        self._transactions.inc()
        progress.TRACKER.flush()
        return changed


class WriteStore(beam.PTransform):
    """Writes (key, patch) pairs into a database store, a transaction per `batch_size` movies.

    Args:
        url, table: the store.
        run_id: the id under which each changed row's previous version is kept in the history.
        batch_size: movies per transaction; a crash loses at most the transaction under way per worker.

    Output: one dict once every transaction is committed, {"output", "rows_written"}, like the JSON file's
    sink, so that what follows the database (the failures list) comes after it on every runner.
    """

    def __init__(self, url: str, table: str, run_id: str, batch_size: int = 200):
        super().__init__()
        self._url = url
        self._fn = _WriteStoreFn(url, table, run_id, batch_size)

    def expand(self, patches):
        url = redact_url(self._url)
        return (patches
                | "Transact" >> beam.ParDo(self._fn)
                | "Total" >> beam.CombineGlobally(sum)
                | "Summary" >> beam.Map(lambda rows: {"output": url, "rows_written": rows}))


class _MatchedFn(_StoreDoFn):
    def process(self, _unused) -> Iterable[tuple[str, tuple[int, str]]]:
        for key, tmdb_id in self._store.matched():
            yield key, (tmdb_id, key)


class ReadStoreMatches(beam.PTransform):
    """(key, (TMDB id, key)) of every row of a database store matched to a film, from its generated columns (one
    small query, not a read of the records): what `transforms.shared.SharedMatches` needs of the whole store
    when the run reads only the rows its selection may pick."""

    def __init__(self, url: str, table: str):
        super().__init__()
        self._args = (url, table)

    def expand(self, pbegin):
        return pbegin | "Start" >> beam.Impulse() | "Matched" >> beam.ParDo(_MatchedFn(*self._args))
