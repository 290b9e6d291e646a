"""Movie stores: one interface over the JSON file, a SQLite file and a PostgreSQL table, opened from a URL.

`open_store(url)` takes `sqlite:///relative.db`, `sqlite:////absolute.db`, `postgresql://user@host:port/db`
(password from libpq's environment or `~/.pgpass`, never from the URL's logs) or a plain path (the JSON file).

Every store holds (key, record) pairs in an order, and offers the same operations:

- `read(selection, pos_range)`: the JSON file parses itself whole and filters in Python; a database runs
  `SELECT ... WHERE <selection> AND pos BETWEEN ...` on its indexed columns.
- `key_ranges(selection, n)`: the file is one range (one reader); a database gives ranges of the ordering key
  `pos` holding n selected rows each, so that several workers read in parallel.
- `status_counts()`: a scan of every record; a `GROUP BY` over the indexed status columns.
- `write_patches(run_id, patches)`: read, patch and rewrite the whole file atomically (the snapshot sink's
  steps, the previous file into the backups); in a database one transaction that locks the rows, saves their
  previous versions in the history table and updates only the patched fields.
- `runs()` / `restore(run_id)` / `prune_history(keep)`: the backups folder (each run's previous file); the
  history table (each run's previous rows).
- `replace_all(items, layout)` (convert): write a new file in the layout (format, indent, BOM); fill an empty
  table, the layout kept in the meta table for the way back.

A patch is a dict of field paths to values: a top-level field (`tmdb`, `images`, `enrichment`) or one entry
below `enrichment` (`enrichment.metadata`); any other path is refused, so a store never changes a user's
own fields.
"""

import abc
import contextlib
import dataclasses
import json
import re
from typing import Any, Iterable, Iterator

import orjson

from movie_enrichment.io import lock

OWN_FIELDS = ("tmdb", "images", "enrichment")
ENRICHERS = ("metadata", "images")
DEFAULT_TABLE = "movies"
_BIG_NUMBER = re.compile(rb"\d{19,}")


class StoreError(ValueError):
    """A fatal problem with a store (cannot open, wrong shape, refused write); one line naming the problem."""


class StoreBusy(StoreError):
    """Another run holds the store."""


@dataclasses.dataclass(frozen=True)
class Selection:
    """Which rows a run may enrich, as a store can test it: a superset of what the run's selector keeps.

    Args:
        enrichers: the enrichers of the run.
        mode: a `--reprocess` mode: missing, failed, not_found, stale or all.
        stale_before: with `stale`, an ISO-8601 UTC time; outcomes updated before it are redone.
        keys: rows selected whatever their outcomes (`--pins`: a pin not yet applied is looked up again in
            any mode).
    """

    enrichers: tuple[str, ...] = ENRICHERS
    mode: str = "missing"
    stale_before: str | None = None
    keys: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Layout:
    """How a JSON file lays its records out, kept by a database store so that `convert` gives the file back."""

    format: str = "object"
    indent: int | None = 2
    bom: bool = False
    # A file of one record per line: its `database.RecordStyle` as JSON-ready values (`RecordStyle.as_dict`).
    style: dict | None = None


@dataclasses.dataclass(frozen=True)
class RunInfo:
    run_id: str
    saved_at: str
    rows: int


def encode(record: Any) -> str:
    """A record as compact JSON text, exact for integers of any size and nesting of any depth."""
    try:
        return orjson.dumps(record).decode("utf-8")
    except orjson.JSONEncodeError:
        return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def decode(text: str | bytes) -> Any:
    """Parses a record's JSON text; integers of 19 digits or more go through the stdlib, which keeps them exact
    (orjson reads integers beyond 64 bits as floats)."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    if _BIG_NUMBER.search(data):
        return json.loads(data)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)  # deeper than orjson's 254 levels


def check_patch(key: str, patch: dict) -> None:
    for path in patch:
        head, _, rest = path.partition(".")
        if head not in OWN_FIELDS or (rest and (head != "enrichment" or "." in rest)):
            raise StoreError(f"refusing to write field {path!r} of {key!r}: only {', '.join(OWN_FIELDS)} are ours")


def apply_patch(record: Any, patch: dict) -> Any:
    """The record with the patch's fields set, as the JSON file's sink sets a movie's patch: fields already
    there keep their place, new ones follow in the patch's order; `enrichment.<name>` entries update the
    record's `enrichment` (a new one if it has none). A record that is not an object is returned as it is.
    """
    if not isinstance(record, dict) or not patch:
        return record
    top: dict[str, Any] = {}
    for path, value in patch.items():
        head, _, sub = path.partition(".")
        if sub:
            base = top.get(head, record.get(head))
            top[head] = {**(base if isinstance(base, dict) else {}), sub: value}
        else:
            top[head] = value
    return {**record, **top}


def merge_patches(first: dict, second: dict) -> dict:
    """Two patches of one record as one (the second wins on the same path)."""
    merged = dict(first)
    for path, value in second.items():
        head, _, sub = path.partition(".")
        if not sub and isinstance(value, dict) and head == "enrichment":
            merged = {p: v for p, v in merged.items() if not p.startswith("enrichment.")}
        merged[path] = value
    return merged


class Store(abc.ABC):
    """A movie database: (key, record) pairs in order. Open with `open_store`; close with `close()`."""

    url: str
    table: str = DEFAULT_TABLE

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @abc.abstractmethod
    def describe(self) -> str:
        """The store for messages and reports, with no password."""

    @property
    def incremental(self) -> bool:
        """Whether writes touch only the patched rows (a database) or rewrite everything (the JSON file)."""
        return False

    @abc.abstractmethod
    def count(self) -> int: ...

    @abc.abstractmethod
    def status_counts(self) -> dict[str, dict[str, int]]:
        """{enricher: {status or "none": rows}}."""

    @abc.abstractmethod
    def key_ranges(self, selection: Selection | None, rows_per_range: int) -> list[tuple[int, int]]:
        """Inclusive ranges of the ordering key that together hold every selected row."""

    @abc.abstractmethod
    def read(self, selection: Selection | None = None,
             pos_range: tuple[int, int] | None = None) -> Iterator[tuple[str, Any]]:
        """(key, record) in the store's order: all of them, or those the selection may pick, in a range."""

    def matched(self) -> Iterator[tuple[str, int]]:
        """(key, TMDB id) of every row matched to a film: its `tmdb.id` where its metadata outcome is ok."""
        for key, record in self.read():
            tmdb_id = matched_id(record)
            if tmdb_id is not None:
                yield key, tmdb_id

    @abc.abstractmethod
    def layout(self) -> Layout: ...

    @abc.abstractmethod
    def write_patches(self, run_id: str, patches: list[tuple[str, dict]]) -> int:
        """Applies the patches in one transaction, saving each changed row's previous version under run_id;
        returns how many rows changed. Rows whose patch changes nothing are not written."""

    @abc.abstractmethod
    def replace_all(self, items: Iterable[tuple[str, Any]], layout: Layout) -> int:
        """Fills an empty store (convert); refuses one that holds records."""

    @abc.abstractmethod
    def runs(self) -> list[RunInfo]:
        """Runs that can be restored, oldest first."""

    @abc.abstractmethod
    def restore(self, run_id: str, new_run_id: str) -> int:
        """Puts back the rows as they were before run_id (saving the current ones under new_run_id)."""

    @abc.abstractmethod
    def prune_history(self, keep_runs: int) -> int:
        """Drops the history of all but the newest keep_runs runs (0 keeps all); returns rows dropped."""

    def run_lock(self, timeout: float = 0.0, command: str | None = None) -> contextlib.AbstractContextManager:
        """Held for a whole run so that two runs never enrich the same store at once (`io.lock.hold`).

        Args:
            timeout: seconds to wait for another run to finish (`--lock_timeout`); 0 fails at once.
            command: how this run describes itself to those it makes wait.

        Raises:
            StoreBusy: another run holds it; one line naming that run.
        """
        return contextlib.nullcontext()

    @abc.abstractmethod
    def close(self) -> None: ...


def matched_id(record: Any) -> int | None:
    """The TMDB id a record is matched to as the database holds it: its `tmdb.id` where its metadata outcome is
    ok (a `removed` film's kept block or a failed lookup's stale one is no match)."""
    if not isinstance(record, dict):
        return None
    block, outcome = record.get("tmdb"), (record.get("enrichment") or {})
    outcome = outcome.get("metadata") if isinstance(outcome, dict) else None
    if not isinstance(block, dict) or not isinstance(outcome, dict) or outcome.get("status") != "ok":
        return None
    tmdb_id = block.get("id")
    return tmdb_id if isinstance(tmdb_id, int) and not isinstance(tmdb_id, bool) else None


def is_store_url(value: str) -> bool:
    return value.startswith(("sqlite://", "postgresql://", "postgres://"))


def open_store(url: str, table: str = DEFAULT_TABLE, create: bool = True) -> Store:
    """Opens the store a URL (or plain JSON file path) names.

    Args:
        url: `sqlite:///rel.db`, `sqlite:////abs.db`, `postgresql://user@host:port/db`, or a JSON file path.
        table: the table of a database store.
        create: create the database store's schema when missing (else a missing table is an error).

    Raises:
        StoreError: the URL, the table name or the existing schema is not usable.
    """
    if url.startswith("sqlite:"):
        from movie_enrichment.io.stores.sqlite import SqliteStore
        return SqliteStore(sqlite_path(url), table, create)
    if url.startswith(("postgresql:", "postgres:")):
        from movie_enrichment.io.stores.postgres import PostgresStore
        return PostgresStore(url, table, create)
    from movie_enrichment.io.stores.jsonfile import JsonFileStore
    return JsonFileStore(url)


def sqlite_path(url: str) -> str:
    """`sqlite:///rel.db` -> `rel.db`, `sqlite:////abs/x.db` -> `/abs/x.db` (SQLAlchemy's spelling)."""
    if not url.startswith("sqlite:///") or len(url) <= len("sqlite:///"):
        raise StoreError(f"a SQLite URL is sqlite:///relative/path.db or sqlite:////absolute/path.db, not {url!r}")
    return url[len("sqlite:///"):]


def check_table_name(table: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,40}", table):
        raise StoreError(f"--table must be a plain SQL name (letters, digits, _), not {table!r}")
    return table


def redact_url(url: str) -> str:
    """A URL without its password, for messages."""
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)


def sidecar_base(url: str, table: str = DEFAULT_TABLE) -> str:
    """The path that a store's files (failures list, report) are named after: the SQLite file itself, or
    `<database>.<table>` in the current folder for PostgreSQL; a JSON file's own path."""
    if url.startswith("sqlite:"):
        return sqlite_path(url)
    if url.startswith(("postgresql:", "postgres:")):
        database = url.rsplit("/", 1)[-1].split("?", 1)[0] or "postgres"
        return f"{database}.{table}"
    return url


@contextlib.contextmanager
def refused_as_busy(run_lock: contextlib.AbstractContextManager) -> Iterator[None]:
    """Holds a run lock of `io.lock` (`run_lock`, or `hold` over a store's own lock) for the `with` block; its
    refusal (LockBusy, one line naming the holder) is raised as StoreBusy. Only taking the lock is translated:
    what the block raises passes unchanged."""
    held = contextlib.ExitStack()
    try:
        held.enter_context(run_lock)
    except lock.LockBusy as error:
        raise StoreBusy(f"{error}; wait for it to finish") from None
    with held:
        yield


def file_run_lock(path: str, timeout: float = 0.0, command: str | None = None) -> contextlib.AbstractContextManager:
    """The run lock beside a database file (`<path>.run.lock`, `io.lock.run_lock`, the one the command line
    takes): a JSON file's and a SQLite file's."""
    return refused_as_busy(lock.run_lock(path, timeout, command))
