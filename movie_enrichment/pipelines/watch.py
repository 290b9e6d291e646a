"""`--watch DIR`: the practical form of a streaming pipeline on the local runner.

The Python DirectRunner cannot run an unbounded pipeline offline, so this loop turns each arrival of movie
files into one bounded, checkpointed, incremental run that reads the database and the new files once and
writes the database once.
"""

import dataclasses
import logging
import os
import shutil
import signal
import threading
from typing import Callable, TextIO

from movie_enrichment.io import database, sink
from movie_enrichment.pipelines import report
from movie_enrichment.pipelines.config import RunConfig

_LOGGER = logging.getLogger(__name__)
_SUFFIXES = (".json", ".jsonl", ".ndjson")


def pending_files(folder: str) -> list[str]:
    """New movie files, oldest first; names starting with '.' (files still being written) are skipped."""
    names = [n for n in os.listdir(folder) if n.endswith(_SUFFIXES) and not n.startswith(".")]
    paths = [os.path.join(folder, n) for n in names if os.path.isfile(os.path.join(folder, n))]
    return sorted(paths, key=lambda p: (os.path.getmtime(p), p))


def _move(path: str, subfolder: str) -> str:
    target = os.path.join(os.path.dirname(path), subfolder)
    os.makedirs(target, exist_ok=True)
    destination = os.path.join(target, os.path.basename(path))
    shutil.move(path, destination)
    return destination


def _usable(paths: list[str]) -> list[str]:
    """Files that parse as movie files; the others go to `rejected/` with the reason logged."""
    usable = []
    for path in paths:
        try:
            database.load(path)
            usable.append(path)
        except database.DatabaseError as error:
            _LOGGER.warning("Rejected %s: %s", path, error)
            _move(path, "rejected")
    return usable


def _initial_database(path: str) -> bytes:
    """The input's bytes when it exists, else an empty database."""
    if not os.path.exists(path):
        return b"{}\n"
    with open(path, "rb") as handle:
        return handle.read()


def watch(folder: str, interval: float, run_once: Callable[[RunConfig], object], config: RunConfig,
          out: TextIO, max_cycles: int | None = None) -> int:
    """Loops until SIGINT/SIGTERM: enrich the database with each batch of new files, then move them aside.

    The database is `config.output` (created empty if missing). A signal is honoured between runs, so a file
    is moved to `processed/` only after the run that merged it has written the database; a run cut short
    resumes from its checkpoints the next time.
    """
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"--watch folder does not exist: {folder}")
    if not os.path.exists(config.output):
        sink.write_database(config.output, config.backup_dir, _initial_database(config.input),
                            config.keep_backups)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    cycles = 0
    out.write(f"watching {folder} every {interval:g} s for new movie files (Ctrl-C to stop)\n")
    out.flush()
    try:
        while not stop.is_set() and (max_cycles is None or cycles < max_cycles):
            files = _usable(pending_files(folder))
            if files:
                names = ", ".join(os.path.basename(f) for f in files)
                out.write(f"enriching {report.plural(len(files), 'new file')}: {names}\n")
                summary = run_once(dataclasses.replace(config, input=config.output, extra_inputs=tuple(files)))
                if summary is not None:
                    out.write(summary.table() + "\n")
                for path in files:
                    _move(path, "processed")
                cycles += 1
                out.flush()
            stop.wait(interval)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    out.write("watch stopped\n")
    out.flush()
    return cycles
