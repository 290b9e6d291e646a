"""The SQLite store: one file, no server; WAL journal, so readers never wait for the run's writes."""

import contextlib
import os
import sqlite3
from typing import Any, Iterable

from movie_enrichment.io.stores import StoreError, encode, file_run_lock
from movie_enrichment.io.stores.sql import SqlStore, generated_columns


def _path_expr(path: tuple[str, ...]) -> str:
    return "$." + ".".join(f'"{part}"' for part in path)


class SqliteStore(SqlStore):
    """Movies in a SQLite file (`sqlite:///movies.db`). See sql.py for the schema."""

    def __init__(self, path: str, table: str, create: bool = True):
        self.path = path
        if os.path.isdir(path):
            raise StoreError(f"SQLite database is a directory, not a file: {path}")
        if not create and not os.path.exists(path):
            raise StoreError(f"SQLite database not found: {path}")
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise StoreError(f"folder of the SQLite database does not exist: {folder}")
        super().__init__(f"sqlite:///{path}", table, create)

    def describe(self) -> str:
        return f"sqlite:///{self.path}"

    def _connect(self):
        try:
            conn = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            # WAL with synchronous=NORMAL: a killed process loses nothing committed; a power cut may lose the
            # last commits but never corrupts the file.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=60000")
        except sqlite3.DatabaseError as error:
            raise StoreError(f"cannot open SQLite database {self.path}: {error}") from None
        return conn

    def _columns(self, table: str) -> list[str] | None:
        try:
            rows = self._conn.execute(f"PRAGMA table_xinfo({table})").fetchall()
        except sqlite3.DatabaseError as error:
            raise StoreError(f"cannot read SQLite database {self.path}: {error}") from None
        return [row[1] for row in rows] or None

    @contextlib.contextmanager
    def _transaction(self):
        # IMMEDIATE takes the write lock at once, so the rows read in the transaction cannot change under it.
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def _generated(self) -> list[str]:
        return [f"{name} GENERATED ALWAYS AS (json_extract(record, '{_path_expr(path)}')) VIRTUAL"
                for name, path in generated_columns()]

    def _pos_trigger(self) -> str:
        # A row inserted without a position goes last; max(pos) is one step down the pos index.
        return (f"CREATE TRIGGER IF NOT EXISTS {self.table}_pos AFTER INSERT ON {self.table} "
                f"WHEN NEW.pos IS NULL BEGIN UPDATE {self.table} SET pos = "
                f"(SELECT coalesce(max(pos), 0) + 1 FROM {self.table}) WHERE key = NEW.key; END")

    def _create_schema(self) -> None:
        columns = ["key TEXT PRIMARY KEY NOT NULL", "record TEXT NOT NULL CHECK (json_valid(record))",
                   "pos INTEGER"] + self._generated()
        self._conn.execute(f"CREATE TABLE {self.table} ({', '.join(columns)})")
        for statement in self._history_and_meta_ddl("TEXT") + self._index_ddl() + [self._pos_trigger()]:
            self._conn.execute(statement)

    def _adopt(self, columns: list[str]) -> None:
        self._conn.execute(f"ALTER TABLE {self.table} ADD COLUMN pos INTEGER")
        for column in self._generated():
            self._conn.execute(f"ALTER TABLE {self.table} ADD COLUMN {column}")
        self._conn.execute(f"UPDATE {self.table} SET pos = rowid")
        for statement in self._history_and_meta_ddl("TEXT") + self._index_ddl() + [self._pos_trigger()]:
            self._conn.execute(statement)

    def _insert_all(self, items: Iterable[tuple[str, Any]]) -> int:
        count = 0

        def rows():
            nonlocal count
            for count, (key, record) in enumerate(items, start=1):
                yield key, encode(record), count

        try:
            self._conn.executemany(f"INSERT INTO {self.table} (key, record, pos) VALUES (?, ?, ?)", rows())
        except sqlite3.IntegrityError as error:
            raise StoreError(f"cannot insert record {count}: {error}") from None
        return count

    def run_lock(self, timeout: float = 0.0, command: str | None = None):
        return file_run_lock(self.path, timeout, command)
