"""The TMDB client's response cache: one SQLite file of compressed JSON bodies, capped by age and by size.

Reads are one primary-key lookup. Writes go to a queue that one writer thread per process commits in batches,
so the request threads never wait for SQLite's commits. The store holds what the client was asked to keep
(callers pass a `shrink` function, e.g. the trimmed details body), zlib-compressed: a few hundred bytes per
movie instead of the 50-150 KB of a real TMDB details body.
"""

import atexit
import logging
import os
import sqlite3
import threading
import time
import zlib

_LOGGER = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 512 * 1024 * 1024
_TABLE = "tmdb_responses"
_BATCH = 500  # rows per commit at most
_FLUSH_SECONDS = 0.5  # a row waits at most this long before it is written
_PRUNED_TO = 0.8  # the size cap prunes down to this share of the cap, so that the next run does not prune again


class ResponseCache:
    """One SQLite file shared by every client of a process (and, through WAL, by other processes).

    Args:
        path: the SQLite file; its folder is created.
        max_age: seconds an entry stays valid.
        max_bytes: the cap on the stored bodies' total size; `prune()` evicts the oldest entries beyond it.
    """

    def __init__(self, path: str, max_age: float, max_bytes: int = DEFAULT_MAX_BYTES):
        self.path = path
        self.max_age = max_age
        self.max_bytes = max_bytes
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        self._read = self._connect()
        self._read_lock = threading.Lock()
        self._pending: dict[str, tuple[float, int, bytes | None]] = {}
        self._cond = threading.Condition()
        self._writing = 0  # rows taken from _pending and not committed yet
        self._writer: threading.Thread | None = None
        self._urgent = False
        atexit.register(self.flush)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=60, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA busy_timeout=60000")
        # Set before the first table, so that evicted pages go back to the file system (incremental_vacuum).
        conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
        conn.execute("PRAGMA journal_mode=WAL")  # readers never block the writer, nor the writer them
        conn.execute("PRAGMA synchronous=NORMAL")  # a cache: a power cut may lose the last commits, not the file
        conn.execute(f"CREATE TABLE IF NOT EXISTS {_TABLE} (key TEXT PRIMARY KEY, stored REAL NOT NULL, "
                     "status INTEGER NOT NULL, body BLOB)")
        conn.execute(f"CREATE INDEX IF NOT EXISTS {_TABLE}_stored ON {_TABLE} (stored)")
        return conn

    # -- reads and writes --------------------------------------------------------------------------------

    def get(self, key: str) -> tuple[int, bytes | None] | None:
        """(status, JSON body) of a fresh entry, or None. A damaged entry counts as absent."""
        with self._cond:
            pending = self._pending.get(key)
        if pending is not None:
            return pending[1], pending[2]
        with self._read_lock:
            row = self._read.execute(f"SELECT status, body FROM {_TABLE} WHERE key = ? AND stored >= ?",
                                     (key, time.time() - self.max_age)).fetchone()
        if row is None:
            return None
        status, body = row
        if body is None:
            return status, None
        try:
            return status, zlib.decompress(body)
        except zlib.error:
            return None

    def put(self, key: str, status: int, body: bytes | None) -> None:
        """Queues an entry; the writer thread stores it within `_FLUSH_SECONDS`."""
        with self._cond:
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_loop, name="tmdb-cache-writer", daemon=True)
                self._writer.start()
            self._pending[key] = (time.time(), status, body)
            if len(self._pending) in (1, _BATCH):
                self._cond.notify_all()

    def flush(self) -> None:
        """Returns once every entry queued so far is committed."""
        with self._cond:
            self._urgent = True
            self._cond.notify_all()
            while (self._pending or self._writing) and self._writer is not None and self._writer.is_alive():
                self._cond.wait(0.1)

    def _write_loop(self) -> None:
        conn = self._connect()
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending)
                # Gather a batch: a commit per response would cost more than the request it saves.
                self._cond.wait_for(lambda: len(self._pending) >= _BATCH or self._urgent, timeout=_FLUSH_SECONDS)
                rows, self._pending = self._pending, {}
                self._writing, self._urgent = len(rows), False
            try:
                values = [(key, stored, status, None if body is None else zlib.compress(body, 6))
                          for key, (stored, status, body) in rows.items()]
                with conn:
                    conn.execute("BEGIN IMMEDIATE")
                    conn.executemany(f"INSERT OR REPLACE INTO {_TABLE} VALUES (?, ?, ?, ?)", values)
            except sqlite3.Error as error:  # a cache that cannot be written costs requests, never the run
                _LOGGER.warning("HTTP cache %s: could not store %d responses: %s", self.path, len(rows), error)
            finally:
                with self._cond:
                    self._writing = 0
                    self._cond.notify_all()

    # -- eviction ----------------------------------------------------------------------------------------

    def prune(self) -> dict:
        """Drops expired entries, then the oldest ones while the bodies exceed the size cap; returns figures."""
        self.flush()
        conn = self._connect()
        try:
            with conn:
                conn.execute("BEGIN IMMEDIATE")
                expired = conn.execute(f"DELETE FROM {_TABLE} WHERE stored < ?",
                                       (time.time() - self.max_age,)).rowcount
                evicted = 0
                # The file bounds what it holds: under the cap, no need to add up the bodies (a full scan).
                total = 0 if self.size_on_disk() <= self.max_bytes else conn.execute(
                    f"SELECT COALESCE(SUM(LENGTH(body)), 0) FROM {_TABLE}").fetchone()[0]
                if total > self.max_bytes:
                    excess, cutoff = total - int(self.max_bytes * _PRUNED_TO), None
                    for stored, size in conn.execute(
                            f"SELECT stored, COALESCE(LENGTH(body), 0) FROM {_TABLE} ORDER BY stored"):
                        excess -= size
                        cutoff = stored
                        if excess <= 0:
                            break
                    evicted = conn.execute(f"DELETE FROM {_TABLE} WHERE stored <= ?", (cutoff,)).rowcount
            if expired or evicted:
                conn.execute("PRAGMA incremental_vacuum")
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
        return {"expired": expired, "evicted": evicted}

    def figures(self) -> dict:
        """Entries and the stored bodies' bytes (a full scan: for tests and benchmarks)."""
        self.flush()
        with self._read_lock:
            entries, size = self._read.execute(
                f"SELECT COUNT(*), COALESCE(SUM(LENGTH(body)), 0) FROM {_TABLE}").fetchone()
        return {"entries": entries, "body_bytes": size}

    def size_on_disk(self) -> int:
        """The file with its -wal and -shm companions, in bytes."""
        return sum(os.path.getsize(p) for p in (self.path, self.path + "-wal", self.path + "-shm")
                   if os.path.exists(p))


_LOCK = threading.Lock()
_CACHES: dict[str, ResponseCache] = {}


def shared(path: str, max_age: float, max_bytes: int = DEFAULT_MAX_BYTES) -> ResponseCache:
    """One cache per file and process, whatever the number of clients and threads."""
    with _LOCK:
        cache = _CACHES.get(path)
        if cache is None:
            cache = _CACHES[path] = ResponseCache(path, max_age, max_bytes)
        cache.max_age, cache.max_bytes = max_age, max_bytes
        return cache
