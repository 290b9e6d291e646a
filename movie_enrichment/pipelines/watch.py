"""`--watch DIR`: the practical form of a streaming pipeline on the local runner.

The Python DirectRunner cannot run an unbounded pipeline offline, so this loop turns each arrival of movie
files into one bounded, checkpointed incremental run: one read, one write.
"""

import logging
import os
import shutil
import signal
import threading
from typing import Callable, TextIO

from movie_enrichment.io import database, sink
from movie_enrichment.pipelines.enrich_pipeline import RunConfig

_LOGGER = logging.getLogger(__name__)
_SUFFIXES = (".json", ".jsonl", ".ndjson")


def pending_files(folder: str) -> list[str]:
    """New movie files, oldest first; names starting with '.' (files still being written) are skipped."""
    names = [n for n in os.listdir(folder) if n.endswith(_SUFFIXES) and not n.startswith(".")]
    paths = [os.path.join(folder, n) for n in names if os.path.isfile(os.path.join(folder, n))]
    return sorted(paths, key=lambda p: (os.path.getmtime(p), p))


def merge_into_database(config: RunConfig, files: list[str]) -> tuple[int, list[str]]:
    """Adds the files' movies to the database (new keys only; existing records are never overwritten).

    Returns how many movies were added and which files were merged; a file that is not a valid movie file
    is moved to `rejected/` with the reason logged, and never stops the loop.
    """
    if os.path.exists(config.output):
        snapshot, items = database.load(config.output)
    else:
        snapshot, items = database.Snapshot(config.output, b"{}", database.FORMAT_OBJECT, indent=2), []
    records = dict(items)
    added, merged = 0, []
    for path in files:
        try:
            _, incoming = database.load(path)
        except database.DatabaseError as error:
            _LOGGER.warning("Rejected %s: %s", path, error)
            _move(path, "rejected")
            continue
        for key, record in incoming:
            if snapshot.format == database.FORMAT_OBJECT:
                key = record.get("title") if key.isdigit() and isinstance(record, dict) and \
                    isinstance(record.get("title"), str) else key
                if key in records:
                    continue
            else:
                key = str(len(records))
            records[key] = record
            added += 1
        merged.append(path)
    if added:
        sink.write_database(config.output, config.backup_dir,
                            database.serialize(snapshot, records.items()), config.keep_backups)
    return added, merged


def _move(path: str, subfolder: str) -> None:
    target = os.path.join(os.path.dirname(path), subfolder)
    os.makedirs(target, exist_ok=True)
    shutil.move(path, os.path.join(target, os.path.basename(path)))


def watch(folder: str, interval: float, run_once: Callable[[], object], config: RunConfig, out: TextIO,
          max_cycles: int | None = None) -> int:
    """Loops until SIGINT/SIGTERM: merge new files, enrich in one run, move the files to `processed/`.

    A signal is honoured between runs, so a file is moved only after the run that used it has written the
    database, and a finished batch is never lost (it is checkpointed, and the run resumes from it).
    """
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"--watch folder does not exist: {folder}")
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    cycles = 0
    out.write(f"watching {folder} every {interval:g} s (Ctrl-C to stop)\n")
    out.flush()
    try:
        while not stop.is_set() and (max_cycles is None or cycles < max_cycles):
            files = pending_files(folder)
            if files:
                added, merged = merge_into_database(config, files)
                out.write(f"merged {added} new movies from {len(merged)} files\n")
                summary = run_once()
                if summary is not None:
                    out.write(summary.table() + "\n")
                for path in merged:
                    _move(path, "processed")
                cycles += 1
                out.flush()
            stop.wait(interval)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    out.write("watch stopped\n")
    return cycles
