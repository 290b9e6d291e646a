"""Replacing an output file safely (`write_database`): the new file beside it, the old one backed up, one rename."""

import itertools
from typing import Iterable

from apache_beam.io.filesystems import FileSystems

from movie_enrichment.io import files
from movie_enrichment.io.sink.backups import backup, prune_quietly, read_raw


class SinkError(OSError):
    """The output could not be written; the previous output is untouched."""


# What write_database returns when the new database is byte-identical to the output: nothing was written.
UNCHANGED = "(unchanged: nothing written)"


def check_folder(output: str) -> None:
    """Raises SinkError, one line, when the output's folder does not exist."""
    directory = FileSystems.split(output)[0]
    if directory and not FileSystems.exists(directory):
        raise SinkError(f"output folder does not exist: {directory}")


def unless_same(data: bytes | Iterable[bytes], current: bytes) -> Iterable[bytes] | None:
    """None when the new file's chunks add up to `current` byte for byte; else all of them, to write. Chunks are
    held only up to the first difference, so a changed database is not kept twice in memory."""
    chunks = iter([data] if isinstance(data, bytes) else data)
    view, held, offset = memoryview(current), [], 0
    for chunk in chunks:
        held.append(chunk)
        if view[offset:offset + len(chunk)] != chunk:
            return itertools.chain(held, chunks)
        offset += len(chunk)
    return None if offset == len(view) else held


def write_database(output: str, backup_dir: str, data: bytes | Iterable[bytes], keep_backups: int = 10,
                   previous: bytes | None = None) -> str | None:
    """Replaces `output` with `data` safely and returns the backup path of the previous output, if any, or
    UNCHANGED when `data` is the output byte for byte (then nothing is written: no file, no backup, no rotation).

    The order is the point: the new file is written beside the target and flushed; then the previous output
    is saved into the backups (from `previous`, its bytes as already read, else read from disk) unless the
    newest backup already holds those very bytes; then one rename puts the new file in place. At every moment
    the output is the old file or the whole new one.
    """
    check_folder(output)
    files.remove_stale_temps(output)
    exists = FileSystems.exists(output)
    if exists and previous is None:
        previous = read_raw(output)
    if exists:
        data = unless_same(data, previous)
        if data is None:
            return UNCHANGED
    temp = files.write_temp(output, data, "application/json")
    try:
        saved, _ = backup(output, backup_dir, previous)
    except Exception:
        files.discard(temp)
        raise
    files.publish(temp, output)
    if saved:
        prune_quietly(backup_dir, output, keep_backups)
    return saved
