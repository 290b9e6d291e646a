"""What SQLite and PostgreSQL stores share: the schema's shape, the selection in SQL, patching in transactions.

The table (`movies` by default) is `key TEXT PRIMARY KEY`, `record` (the whole movie as JSON text), `pos` (the
order of the records, given by the database to a row inserted without it) and generated columns, which the
database keeps right from `record` by itself: `tmdb_id`, and `<enricher>_status` and `<enricher>_updated_at`
for each enricher, indexed for the selection. A row that a scraper inserts with only `key` and `record` is
a complete movie that the next run picks up. Beside it: `<table>_history` (the previous version of every row
a run changed, with the run's id and time) and `<table>_meta` (the schema version, the layout for `convert`).

A patch is applied in Python to the row read under a write lock in the same transaction (SQLite
`BEGIN IMMEDIATE`, PostgreSQL `SELECT ... FOR UPDATE`), not by `json_set` in SQL: the transaction must read
each row anyway to save its previous version in the history, PostgreSQL's `json` type (chosen because it keeps
a record's text exactly, see postgres.py) has no `json_set`, and one patch function then serves every store.
A writer that changes other fields of the same row waits for the lock and applies its change on top, so
nothing it writes is lost; rows of other keys are not locked at all.
"""

import contextlib
import dataclasses
import datetime
import logging
from typing import Any, Iterable, Iterator

from movie_enrichment.io.stores import (
    ENRICHERS,
    Layout,
    RunInfo,
    Selection,
    Store,
    StoreError,
    apply_patch,
    check_patch,
    check_table_name,
    decode,
    encode,
    merge_patches,
)
from movie_enrichment.model import now_iso

_LOGGER = logging.getLogger(__name__)

SCHEMA_VERSION = 1
# How far past the stale cutoff the SQL test reaches, so that an updated_at written with a time zone offset
# is still offered to the selector, which decides exactly.
_STALE_MARGIN = datetime.timedelta(days=1)
_IN_CHUNK = 500
LAST_POS = 2 ** 62  # the open end of the last range: rows inserted while the run reads are read too


def generated_columns() -> list[tuple[str, tuple[str, ...]]]:
    """(column, JSON path) of each column the database derives from `record`."""
    columns = [("tmdb_id", ("tmdb", "id"))]
    for enricher in ENRICHERS:
        columns.append((f"{enricher}_status", ("enrichment", enricher, "status")))
        columns.append((f"{enricher}_updated_at", ("enrichment", enricher, "updated_at")))
    return columns


TABLE_COLUMNS = ("key", "record", "pos") + tuple(name for name, _ in generated_columns())


class SqlStore(Store):
    """A movie table in a SQL database. Subclasses give the connection and the dialect's few differences."""

    RECORD_OUT = "record"  # how a record is selected as JSON text
    RECORD_IN = "?"  # how a record's JSON text is written
    TRUE = "1"

    def __init__(self, url: str, table: str, create: bool = True):
        self.url = url
        self.table = check_table_name(table)
        self.history = f"{self.table}_history"
        self.meta = f"{self.table}_meta"
        self._conn = self._connect()
        try:
            self._ensure_schema(create)
        except Exception:
            self.close()
            raise

    @property
    def incremental(self) -> bool:
        return True

    # -- what each dialect provides --------------------------------------------------------------------------

    def _connect(self):
        raise NotImplementedError

    def _columns(self, table: str) -> list[str] | None:
        """The table's column names, or None when there is no such table."""
        raise NotImplementedError

    def _create_schema(self) -> None:
        raise NotImplementedError

    def _adopt(self, columns: list[str]) -> None:
        """Adds our columns to a table a user made with only key and record."""
        raise NotImplementedError

    def _transaction(self) -> contextlib.AbstractContextManager:
        raise NotImplementedError

    def _lock_rows(self, keys: list[str]) -> str:
        return f"SELECT key, {self.RECORD_OUT} FROM {self.table} WHERE key IN ({_marks(keys)})"

    def _sql(self, statement: str) -> str:
        return statement

    def _execute(self, statement: str, params: tuple | list = ()):
        return self._conn.execute(self._sql(statement), params)

    def _executemany(self, statement: str, rows: list) -> None:
        cursor = self._conn.cursor()
        cursor.executemany(self._sql(statement), rows)

    # -- schema ----------------------------------------------------------------------------------------------

    def _ensure_schema(self, create: bool) -> None:
        columns = self._columns(self.table)
        version = self._meta_value("schema_version") if self._columns(self.meta) is not None else None
        if columns is None:
            if not create:
                raise StoreError(f"{self.describe()} has no table {self.table}")
            with self._transaction():
                self._create_schema()
                self._set_meta("schema_version", str(SCHEMA_VERSION))
            _LOGGER.info("Created table %s in %s", self.table, self.describe())
            return
        if version is not None:
            if version != str(SCHEMA_VERSION):
                raise StoreError(f"table {self.table} in {self.describe()} has schema version {version}; "
                                 f"this program reads version {SCHEMA_VERSION}")
            missing = [c for c in TABLE_COLUMNS if c not in columns]
            if missing:
                raise StoreError(f"table {self.table} in {self.describe()} lacks the columns {', '.join(missing)}")
            return
        if sorted(c.lower() for c in columns) == ["key", "record"]:
            with self._transaction():
                self._adopt(columns)
                self._set_meta("schema_version", str(SCHEMA_VERSION))
            _LOGGER.info("Added the selection columns to table %s in %s", self.table, self.describe())
            return
        raise StoreError(f"table {self.table} in {self.describe()} is not a movie table (its columns are "
                         f"{', '.join(columns)}; expected key and record): choose another with --table")

    def _history_and_meta_ddl(self, record_type: str) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {self.meta} (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {self.history} (run_id TEXT NOT NULL, key TEXT NOT NULL, "
            f"record {record_type} NOT NULL, saved_at TEXT NOT NULL, PRIMARY KEY (run_id, key))",
            f"CREATE INDEX IF NOT EXISTS {self.history}_saved_at ON {self.history} (saved_at)",
        ]

    def _index_ddl(self) -> list[str]:
        statements = [f"CREATE INDEX IF NOT EXISTS {self.table}_pos ON {self.table} (pos)",
                      f"CREATE INDEX IF NOT EXISTS {self.table}_tmdb_id ON {self.table} (tmdb_id)"]
        for enricher in ENRICHERS:
            statements.append(f"CREATE INDEX IF NOT EXISTS {self.table}_{enricher} ON {self.table} "
                              f"({enricher}_status, {enricher}_updated_at)")
        return statements

    def _meta_value(self, name: str) -> str | None:
        row = self._execute(f"SELECT value FROM {self.meta} WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def _set_meta(self, name: str, value: str) -> None:
        self._execute(f"INSERT INTO {self.meta} (name, value) VALUES (?, ?) "
                      "ON CONFLICT (name) DO UPDATE SET value = excluded.value", (name, value))

    # -- reading ---------------------------------------------------------------------------------------------

    def _where(self, selection: Selection | None) -> tuple[str, list]:
        if selection is None or selection.mode == "all":
            return self.TRUE, []
        tests, params = [], []
        for enricher in selection.enrichers:
            status, updated = f"{enricher}_status", f"{enricher}_updated_at"
            if selection.mode == "missing":
                tests.append(f"({status} IS NULL OR {status} = 'failed')")
            elif selection.mode == "failed":
                tests.append(f"{status} = 'failed'")
            elif selection.mode == "changed":
                tests.append(f"{status} = 'ok'")  # the selector keeps those whose TMDB id changed
            elif selection.mode == "not_found":
                tests.append(f"{status} IN ('not_found', 'ambiguous')")
            elif selection.mode == "stale":
                cutoff = _stale_cutoff(selection.stale_before)
                tests.append(f"({status} IS NULL OR {status} = 'failed' OR {updated} IS NULL OR {updated} < ? "
                             f"OR {updated} NOT LIKE '____-__-__T__:__:__%')")
                params.append(cutoff)
            else:
                raise StoreError(f"unknown reprocess mode: {selection.mode}")
        if len(selection.keys) > MAX_SELECTED_KEYS:
            return self.TRUE, []  # every row: the selector still decides, row by row
        if selection.keys:
            tests.append(f"key IN ({_marks(list(selection.keys))})")
            params.extend(selection.keys)
        return "(" + " OR ".join(tests) + ")", params

    def count(self) -> int:
        return self._execute(f"SELECT count(*) FROM {self.table}").fetchone()[0]

    def status_counts(self) -> dict[str, dict[str, int]]:
        counts = {}
        for enricher in ENRICHERS:
            rows = self._execute(f"SELECT {enricher}_status, count(*) FROM {self.table} "
                                 f"GROUP BY {enricher}_status").fetchall()
            counts[enricher] = {str(status) if status is not None else "none": n for status, n in rows}
        return counts

    def count_selected(self, selection: Selection | None) -> int:
        where, params = self._where(selection)
        return self._execute(f"SELECT count(*) FROM {self.table} WHERE {where}", params).fetchone()[0]

    def key_ranges(self, selection: Selection | None, rows_per_range: int) -> list[tuple[int, int]]:
        where, params = self._where(selection)
        positions = [row[0] for row in self._execute(
            f"SELECT pos FROM {self.table} WHERE {where} ORDER BY pos", params).fetchall()]
        ranges = [(positions[i], positions[min(i + rows_per_range, len(positions)) - 1])
                  for i in range(0, len(positions), max(1, rows_per_range))]
        if ranges:
            ranges[-1] = (ranges[-1][0], LAST_POS)
        return ranges

    def read(self, selection: Selection | None = None,
             pos_range: tuple[int, int] | None = None) -> Iterator[tuple[str, Any]]:
        where, params = self._where(selection)
        if pos_range is not None:
            where += " AND pos BETWEEN ? AND ?"
            params = params + list(pos_range)
        cursor = self._execute(f"SELECT key, {self.RECORD_OUT} FROM {self.table} WHERE {where} ORDER BY pos",
                               params)
        while True:
            rows = cursor.fetchmany(1000)
            if not rows:
                return
            for key, text in rows:
                yield key, decode(text)

    def matched(self) -> Iterator[tuple[str, int]]:
        # The generated columns answer it without decoding a record.
        cursor = self._execute(f"SELECT key, tmdb_id FROM {self.table} WHERE metadata_status = ? "
                               "AND tmdb_id IS NOT NULL ORDER BY pos", ("ok",))
        while True:
            rows = cursor.fetchmany(5000)
            if not rows:
                return
            for key, tmdb_id in rows:
                if isinstance(tmdb_id, int) and not isinstance(tmdb_id, bool):
                    yield key, tmdb_id

    def layout(self) -> Layout:
        value = self._meta_value("layout")
        return Layout(**decode(value)) if value else Layout()

    # -- writing ---------------------------------------------------------------------------------------------

    def write_patches(self, run_id: str, patches: list[tuple[str, dict]]) -> int:
        merged: dict[str, dict] = {}
        for key, patch in patches:
            check_patch(key, patch)
            merged[key] = merge_patches(merged[key], patch) if key in merged else patch
        keys = list(merged)
        changed = 0
        saved_at = now_iso("microseconds")  # runs() orders a store's runs by it
        with self._transaction():
            for start in range(0, len(keys), _IN_CHUNK):
                part = keys[start:start + _IN_CHUNK]
                history, updates = [], []
                for key, text in self._execute(self._lock_rows(part), part).fetchall():
                    old = decode(text)
                    new_text = encode(apply_patch(old, merged[key]))
                    if new_text == encode(old):
                        continue  # nothing changes: the row is not rewritten
                    history.append((run_id, key, text, saved_at))
                    updates.append((new_text, key))
                if updates:
                    self._executemany(f"INSERT INTO {self.history} (run_id, key, record, saved_at) "
                                      f"VALUES (?, ?, {self.RECORD_IN}, ?) ON CONFLICT (run_id, key) DO NOTHING",
                                      history)
                    self._executemany(f"UPDATE {self.table} SET record = {self.RECORD_IN} WHERE key = ?", updates)
                    changed += len(updates)
        return changed

    def replace_all(self, items: Iterable[tuple[str, Any]], layout: Layout) -> int:
        if self.count():
            raise StoreError(f"table {self.table} in {self.describe()} already holds {self.count()} records; "
                             "convert fills only an empty table")
        with self._transaction():
            written = self._insert_all(items)
            self._set_meta("layout", encode(dataclasses.asdict(layout)))
        return written

    def _insert_all(self, items: Iterable[tuple[str, Any]]) -> int:
        raise NotImplementedError

    def runs(self) -> list[RunInfo]:
        rows = self._execute(f"SELECT run_id, min(saved_at), count(*) FROM {self.history} GROUP BY run_id "
                             "ORDER BY min(saved_at), run_id").fetchall()
        return [RunInfo(run_id, saved_at, n) for run_id, saved_at, n in rows]

    def restore(self, run_id: str, new_run_id: str) -> int:
        saved_at = now_iso("microseconds")  # runs() orders a store's runs by it
        with self._transaction():
            rows = self._execute(f"SELECT key, {self.RECORD_OUT} FROM {self.history} WHERE run_id = ?",
                                 (run_id,)).fetchall()
            if not rows:
                known = ", ".join(r.run_id for r in self.runs()[-5:]) or "none"
                raise StoreError(f"no run {run_id!r} in the history of {self.describe()} (latest: {known})")
            previous = dict(rows)
            keys = list(previous)
            current = {}
            for start in range(0, len(keys), _IN_CHUNK):
                part = keys[start:start + _IN_CHUNK]
                current.update(dict(self._execute(self._lock_rows(part), part).fetchall()))
            history = [(new_run_id, key, text, saved_at) for key, text in current.items()]
            self._executemany(f"INSERT INTO {self.history} (run_id, key, record, saved_at) "
                              f"VALUES (?, ?, {self.RECORD_IN}, ?) ON CONFLICT (run_id, key) DO NOTHING", history)
            self._executemany(f"UPDATE {self.table} SET record = {self.RECORD_IN} WHERE key = ?",
                              [(previous[key], key) for key in current])
            gone = [(key, previous[key]) for key in keys if key not in current]
            if gone:  # rows deleted since that run come back, at the end
                self._executemany(f"INSERT INTO {self.table} (key, record) VALUES (?, {self.RECORD_IN})", gone)
        return len(keys)

    def prune_history(self, keep_runs: int) -> int:
        if keep_runs <= 0:
            return 0
        old = [r.run_id for r in self.runs()[:-keep_runs]]
        dropped = 0
        with self._transaction():
            for run_id in old:
                cursor = self._execute(f"DELETE FROM {self.history} WHERE run_id = ?", (run_id,))
                dropped += max(0, cursor.rowcount)
        return dropped

    def close(self) -> None:
        if getattr(self, "_conn", None) is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None


# Beyond this many keys named in a selection (SQLite takes 32,766 parameters at most), a store reads every row.
MAX_SELECTED_KEYS = 10_000


def _marks(values: list) -> str:
    return ", ".join("?" for _ in values)


def _stale_cutoff(stale_before: str | None) -> str:
    if not stale_before:
        return "0000"
    when = datetime.datetime.fromisoformat(stale_before.replace("Z", "+00:00")) + _STALE_MARGIN
    return when.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
