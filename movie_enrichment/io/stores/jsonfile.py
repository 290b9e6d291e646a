"""The JSON file as a store: the same operations as a database, each done on the whole file.

A write reads the file, patches it and replaces it atomically with the previous version in the backups
folder (the snapshot sink's steps, `sink.write_database`); a run's "history" is that backup, and restoring a
run puts its backup back. The enrichment pipeline itself keeps its read-once, write-once path for this store
(`database.ReadMovieDatabase`, `sink.WriteDatabase`); this class serves `convert` and the commands that work
on any store.
"""

import datetime
import re
from typing import Any, Iterable, Iterator

from apache_beam.io.filesystems import FileSystems

from movie_enrichment.io import database, lock, sink
from movie_enrichment.io.stores import (
    ENRICHERS,
    Layout,
    RunInfo,
    Selection,
    Store,
    StoreError,
    apply_patch,
    check_patch,
    file_run_lock,
    merge_patches,
)

_STAMP = re.compile(r"\.(\d{8}T\d{12}Z)(\.|$)")


class JsonFileStore(Store):
    """One JSON database file (object keyed by title, array, or JSON Lines).

    Args:
        path: the file, any path Beam's FileSystems opens.
        backup_dir: its backups folder (default: backups/ beside it).
        keep_backups: backups kept after a write.
    """

    def __init__(self, path: str, backup_dir: str | None = None, keep_backups: int = 10):
        self.url = path
        self.path = path
        self.backup_dir = backup_dir or sink.default_backup_dir(path)
        self.keep_backups = keep_backups

    def describe(self) -> str:
        return self.path

    def exists(self) -> bool:
        return FileSystems.exists(self.path)

    def _load(self) -> tuple[database.Snapshot, list[tuple[str, Any]]]:
        return database.load(self.path)

    def count(self) -> int:
        return len(self._load()[1]) if self.exists() else 0

    def status_counts(self) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {e: {} for e in ENRICHERS}
        for _, record in self._load()[1]:
            done = record.get("enrichment") if isinstance(record, dict) else None
            for enricher in ENRICHERS:
                outcome = done.get(enricher) if isinstance(done, dict) else None
                status = outcome.get("status") if isinstance(outcome, dict) else None
                name = str(status) if status is not None else "none"
                counts[enricher][name] = counts[enricher].get(name, 0) + 1
        return counts

    def key_ranges(self, selection: Selection | None, rows_per_range: int) -> list[tuple[int, int]]:
        return [(0, 2 ** 62)]  # a file is parsed whole: one reader

    def read(self, selection: Selection | None = None,
             pos_range: tuple[int, int] | None = None) -> Iterator[tuple[str, Any]]:
        low, high = pos_range or (0, 2 ** 62)
        for index, item in enumerate(self._load()[1]):
            if low <= index <= high:
                yield item

    def layout(self) -> Layout:
        snapshot, _ = self._load()
        style = snapshot.style.as_dict() if snapshot.style is not None else None
        return Layout(format=snapshot.format, indent=snapshot.indent, bom=snapshot.bom, style=style)

    def write_patches(self, run_id: str, patches: list[tuple[str, dict]]) -> int:
        merged: dict[str, dict] = {}
        for key, patch in patches:
            check_patch(key, patch)
            merged[key] = merge_patches(merged[key], patch) if key in merged else patch
        snapshot, items = self._load()
        changed = 0
        out = []
        for key, record in items:
            if key in merged:
                new = apply_patch(record, merged[key])
                changed += new != record
                record = new
            out.append((key, record))
        if changed:
            self._write(snapshot, out, previous=snapshot.bytes())
        return changed

    def replace_all(self, items: Iterable[tuple[str, Any]], layout: Layout) -> int:
        if self.exists():
            raise StoreError(f"output file already exists: {self.path}; convert writes only a new file")
        items = list(items)
        style = database.RecordStyle.from_dict(layout.style) if layout.style else None
        snapshot = database.Snapshot(self.path, None, layout.format, layout.bom, layout.indent, size=0, style=style)
        self._write(snapshot, items)
        return len(items)

    def _write(self, snapshot: database.Snapshot, items: list[tuple[str, Any]], previous: bytes | None = None):
        self._publish(database.serialize_chunks(snapshot, items), previous)

    def _publish(self, chunks: Iterable[bytes], previous: bytes | None) -> None:
        try:
            with lock.database_lock(self.path, timeout=lock.WRITER_WAIT_SECONDS):  # other writers: see io/lock.py
                sink.write_database(self.path, self.backup_dir, chunks, self.keep_backups, previous)
        except OSError as error:
            raise StoreError(f"could not write {self.path}: {error.strerror or error}") from None

    def _backups(self) -> list[str]:
        return sink.list_backups(self.backup_dir, self.path)

    def runs(self) -> list[RunInfo]:
        infos = []
        for path in self._backups():
            match = _STAMP.search(FileSystems.split(path)[1])
            stamp = match.group(1) if match else ""
            when = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%S%fZ").isoformat() + "Z" if stamp else ""
            infos.append(RunInfo(stamp, when, -1))
        return infos

    def restore(self, run_id: str, new_run_id: str) -> int:
        """Puts back the file as it was before the run whose backup carries this stamp."""
        chosen = [p for p in self._backups() if f".{run_id}" in FileSystems.split(p)[1]]
        if not chosen:
            known = ", ".join(r.run_id for r in self.runs()[-5:]) or "none"
            raise StoreError(f"no backup {run_id!r} of {self.path} (latest: {known})")
        # The backup is the file as it was, byte for byte: it goes back as it is (checked to be a database first).
        _, items = database.load(chosen[0])
        current = database.read_bytes(self.path) if self.exists() else None
        self._publish([database.read_bytes(chosen[0])], current)
        return len(items)

    def prune_history(self, keep_runs: int) -> int:
        backups = self._backups()
        if keep_runs <= 0 or len(backups) <= keep_runs:
            return 0
        FileSystems.delete(backups[:-keep_runs])
        return len(backups) - keep_runs

    def run_lock(self, timeout: float = 0.0, command: str | None = None):
        return file_run_lock(self.path, timeout, command)

    def close(self) -> None:
        pass
