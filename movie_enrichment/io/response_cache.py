"""The TMDB client's response cache: one SQLite file of compressed JSON bodies, capped by age and by size.

Reads are one primary-key lookup. Writes go to a queue that one writer thread per process commits in batches,
so the request threads never wait for SQLite's commits. The store holds what the client was asked to keep
(callers pass a `shrink` function, e.g. the trimmed details body), compressed with Zstandard: a few hundred
bytes per movie instead of the 50-150 KB of a real TMDB details body. (Zstandard at level 1 takes 14 us for a
1.2 KB trimmed body where zlib took 40-50, for the same size; it comes with Apache Beam. Entries that earlier
versions wrote with zlib are still read.)

A lookup that misses costs no SQLite read: the keys the file held when the cache was opened are loaded once,
as a sorted array of their hashes (8 bytes a key), in a background thread, and the keys this process stored
since are remembered; a key in neither is not there. Entries that another process writes meanwhile are not
seen (a request is made again, never a wrong answer). The reads of keys that may be there go through one
SQLite connection per thread, with no lock: a shared connection behind a lock made every lookup queue behind
the one whose read waited for the GIL (16 ms per lookup, a sixth of S1's wall time, under load).
"""

import array
import atexit
import bisect
import logging
import os
import sqlite3
import threading
import time
import zlib

import zstandard

_LOGGER = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 512 * 1024 * 1024
_TABLE = "tmdb_responses"
_BATCH = 500  # rows per commit at most
_FLUSH_SECONDS = 0.5  # a row waits at most this long before it is written
_MAX_ADDED = 500_000  # new keys remembered for the check of misses (about 30 MB), see put()
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"  # how every Zstandard frame begins; zlib's begin otherwise (0x78, ...)
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
        self._connect().close()  # the file, its table and WAL mode, before any reader or writer
        self._local = threading.local()  # each thread's read connection
        self._known: array.array | None = None  # sorted hashes of the keys in the file when opened; None: not read yet
        self._added: set[int] = set()  # hashes of the keys this process stored
        self._keys_listed = threading.Event()
        self._listed = True  # False: the check of misses is given up (see put)
        self._pending: dict[str, tuple[float, int, bytes | None]] = {}
        self._cond = threading.Condition()
        self._committing: dict[str, tuple[float, int, bytes | None]] = {}  # taken from _pending, not committed yet
        self._writer: threading.Thread | None = None
        self._urgent = False
        atexit.register(self.flush)
        threading.Thread(target=self._load_keys, name="tmdb-cache-keys", daemon=True).start()  # the last: it uses all

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
        # Queued, or taken by the writer and not committed yet. One dict read each: atomic; the writer swaps the
        # dicts, never edits them.
        pending = self._pending.get(key) or self._committing.get(key)
        if pending is not None:
            return pending[1], pending[2]
        if not self._may_hold(key):
            return None
        row = self._reader().execute(f"SELECT status, body FROM {_TABLE} WHERE key = ? AND stored >= ?",
                                     (key, time.time() - self.max_age)).fetchone()
        if row is None:
            return None
        status, body = row
        if body is None:
            return status, None
        try:
            if body[:4] == _ZSTD_MAGIC:
                return status, self._decompressor().decompress(body)
            return status, zlib.decompress(body)
        except (zstandard.ZstdError, zlib.error):
            return None

    def put(self, key: str, status: int, body: bytes | None) -> None:
        """Queues an entry; the writer thread stores it within `_FLUSH_SECONDS`."""
        with self._cond:
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_loop, name="tmdb-cache-writer", daemon=True)
                self._writer.start()
            if len(self._added) >= _MAX_ADDED:
                # A process that stores this many (a long --watch) reads the file for every lookup from now on,
                # rather than remember all of them.
                self._listed, self._known, self._added = False, None, set()
            self._added.add(hash(key))
            self._pending[key] = (time.time(), status, body)
            if len(self._pending) in (1, _BATCH):
                self._cond.notify_all()

    def _may_hold(self, key: str) -> bool:
        """False when the key is surely not in the file (see the module's docstring); True when it may be."""
        known = self._known
        if known is None:
            return True
        digest = hash(key)
        if digest in self._added:
            return True
        at = bisect.bisect_left(known, digest)
        return at < len(known) and known[at] == digest

    def _load_keys(self) -> None:
        try:
            conn = self._reader_connection()
            try:
                # The primary key's index holds every key: the bodies are not read.
                known = array.array("q", sorted(hash(key) for (key,) in conn.execute(f"SELECT key FROM {_TABLE}")))
                with self._cond:
                    if self._listed:
                        self._known = known
            finally:
                conn.close()
        except sqlite3.Error as error:  # every lookup reads the file, as without the list
            _LOGGER.warning("HTTP cache %s: could not list its keys: %s", self.path, error)
        finally:
            self._keys_listed.set()

    def _reader_connection(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=60, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA busy_timeout=60000")
        return conn

    def _decompressor(self) -> zstandard.ZstdDecompressor:
        """This thread's Zstandard context (one context is not for several threads at once)."""
        dctx = getattr(self._local, "dctx", None)
        if dctx is None:
            dctx = self._local.dctx = zstandard.ZstdDecompressor()
        return dctx

    def _reader(self) -> sqlite3.Connection:
        """This thread's read connection (WAL: readers do not wait for each other, nor for the writer)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._reader_connection()
        return conn

    def flush(self) -> None:
        """Returns once every entry queued so far is committed."""
        with self._cond:
            self._urgent = True
            self._cond.notify_all()
            while (self._pending or self._committing) and self._writer is not None and self._writer.is_alive():
                self._cond.wait(0.1)

    def _write_loop(self) -> None:
        conn = self._connect()
        compressor = zstandard.ZstdCompressor(level=1)
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending)
                # Gather a batch: a commit per response would cost more than the request it saves.
                self._cond.wait_for(lambda: len(self._pending) >= _BATCH or self._urgent, timeout=_FLUSH_SECONDS)
                rows = self._committing = self._pending
                self._pending, self._urgent = {}, False
            try:
                values = [(key, stored, status, None if body is None else compressor.compress(body))
                          for key, (stored, status, body) in rows.items()]
                with conn:
                    conn.execute("BEGIN IMMEDIATE")
                    conn.executemany(f"INSERT OR REPLACE INTO {_TABLE} VALUES (?, ?, ?, ?)", values)
            except sqlite3.Error as error:  # a cache that cannot be written costs requests, never the run
                _LOGGER.warning("HTTP cache %s: could not store %d responses: %s", self.path, len(rows), error)
            finally:
                with self._cond:
                    self._committing = {}
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
        entries, size = self._reader().execute(
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
