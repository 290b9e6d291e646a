"""The database sink: one output file, written beside the target, the old one backed up, then an atomic rename."""

import datetime
import hashlib
import itertools
import logging
import os
import re
import uuid
from typing import Iterable

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.io.localfilesystem import LocalFileSystem
from apache_beam.metrics import Metrics

from movie_enrichment.io import database, progress
from movie_enrichment.model import NAMESPACE

_LOGGER = logging.getLogger(__name__)


class SinkError(OSError):
    """The output could not be written; the previous output is untouched."""


def is_local(path: str) -> bool:
    return isinstance(FileSystems.get_filesystem(path), LocalFileSystem)


def _fsync(path: str) -> None:
    """Makes a local file or folder durable, so that a power cut cannot leave the renamed file empty."""
    if not is_local(path):
        return  # object stores publish an object whole or not at all
    flags = os.O_RDONLY | (os.O_DIRECTORY if os.path.isdir(path) else 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_dir(path: str) -> None:
    """Creates a folder if it is missing (FileSystems.mkdirs refuses an existing one)."""
    if not FileSystems.exists(path):
        try:
            FileSystems.mkdirs(path)
        except OSError:
            if not FileSystems.exists(path):
                raise


def _write_temp(path: str, data: bytes | Iterable[bytes], mime_type: str) -> str:
    """Writes `data` (bytes, or an iterable of chunks) under a temporary name beside `path`, flushed to disk,
    and returns that name."""
    directory, name = FileSystems.split(path)
    temp = FileSystems.join(directory, f".{name}.tmp-{uuid.uuid4().hex}")
    try:
        with FileSystems.create(temp, mime_type=mime_type, compression_type=CompressionTypes.UNCOMPRESSED) as out:
            for chunk in ([data] if isinstance(data, bytes) else data):
                out.write(chunk)
            if is_local(temp):
                out.flush()
                os.fsync(out.fileno())  # durable before it is renamed: a power cut cannot leave it empty
    except Exception:
        _discard(temp)
        raise
    return temp


def _discard(temp: str) -> None:
    try:
        if FileSystems.exists(temp):
            FileSystems.delete([temp])
    except Exception:  # pylint: disable=broad-except
        _LOGGER.warning("Could not remove the temporary file %s", temp)


def _publish(temp: str, path: str) -> None:
    """Renames a finished temporary file onto `path` in one atomic step (a copy + delete on object stores,
    which publish an object whole or not at all)."""
    try:
        FileSystems.rename([temp], [path])
    except Exception:
        _discard(temp)
        raise
    if is_local(path):
        _fsync(FileSystems.split(path)[0] or ".")


def atomic_write(path: str, data: bytes, mime_type: str = "application/json") -> None:
    """Writes `data` to a temporary file beside `path`, flushes it, then renames it onto `path`."""
    _publish(_write_temp(path, data, mime_type), path)


def backup_name(output: str, when: datetime.datetime) -> str:
    """`movies.json` -> `movies.20261125T121314123456Z.json`: sortable, one per run."""
    name = FileSystems.split(output)[1]
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stamp = when.strftime("%Y%m%dT%H%M%S%fZ")
    return f"{stem}.{stamp}.{ext}" if ext else f"{stem}.{stamp}"


def list_backups(backup_dir: str, output: str) -> list[str]:
    """This output's backups, oldest first (another output's backups in the same folder are not listed)."""
    if not FileSystems.exists(backup_dir):
        return []
    name = FileSystems.split(output)[1]
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    own = re.compile(re.escape(stem) + r"\.\d{8}T\d{12}Z" + (r"\." + re.escape(ext) if ext else ""))
    pattern = FileSystems.join(backup_dir, f"{stem}.*")
    paths = [m.path for m in FileSystems.match([pattern])[0].metadata_list]
    return sorted(p for p in paths if own.fullmatch(FileSystems.split(p)[1]))


def _prune_backups(backup_dir: str, output: str, keep: int) -> None:
    """Keeps the newest `keep` distinct versions (0 keeps all): a backup byte-identical to a newer one is a
    duplicate and goes first; a distinct version goes only once `keep` newer distinct versions are kept. So
    rotation never removes the only copy of a version while fewer than `keep` newer ones exist, however many
    runs changed nothing."""
    backups = list_backups(backup_dir, output)[::-1]  # newest first
    seen: set[str] = set()
    doomed = []
    for path in backups:
        digest = _digest(path)
        if digest in seen or (keep > 0 and len(seen) >= keep):
            doomed.append(path)
        seen.add(digest)
    if doomed:
        FileSystems.delete(doomed)


def _digest(path: str) -> str:
    hasher = hashlib.blake2b(digest_size=16)
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(block)
    return hasher.hexdigest()


def _read(path: str) -> bytes:
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        return handle.read()


def _unless_same(data: bytes | Iterable[bytes], current: bytes) -> Iterable[bytes] | None:
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


# What write_database returns when the new database is byte-identical to the output: nothing was written.
UNCHANGED = "(unchanged: nothing written)"


def _remove_stale_temps(output: str) -> None:
    """Removes temporary files that a killed run left beside the output (the caller holds the run lock)."""
    directory, name = FileSystems.split(output)
    pattern = FileSystems.join(directory, f".{name}.tmp-*") if directory else f".{name}.tmp-*"
    try:
        stale = [m.path for m in FileSystems.match([pattern])[0].metadata_list]
        if stale:
            FileSystems.delete(stale)
            _LOGGER.info("Removed %d temporary files left by an interrupted run", len(stale))
    except Exception as error:  # pylint: disable=broad-except
        _LOGGER.warning("Could not remove old temporary files beside %s: %s", output, error)


def write_database(output: str, backup_dir: str, data: bytes | Iterable[bytes], keep_backups: int = 10,
                   previous: bytes | None = None) -> str | None:
    """Replaces `output` with `data` safely and returns the backup path of the previous output, if any, or
    UNCHANGED when `data` is the output byte for byte (then nothing is written: no file, no backup, no rotation).

    The order is the point: the new file is written beside the target and flushed; then the previous output
    is saved into the backups (from `previous`, its bytes as already read, else read from disk) unless the
    newest backup already holds those very bytes; then one rename puts the new file in place. At every moment
    the output is the old file or the whole new one.
    """
    directory = FileSystems.split(output)[0]
    if directory and not FileSystems.exists(directory):
        raise SinkError(f"output folder does not exist: {directory}")
    _remove_stale_temps(output)
    exists = FileSystems.exists(output)
    if exists and previous is None:
        previous = _read(output)
    if exists:
        data = _unless_same(data, previous)
        if data is None:
            return UNCHANGED
    temp = _write_temp(output, data, "application/json")
    backup = None
    try:
        if exists:
            backup = _back_up(output, backup_dir, previous)
    except Exception:
        _discard(temp)
        raise
    _publish(temp, output)
    if backup:
        try:
            _prune_backups(backup_dir, output, keep_backups)
        except Exception as error:  # pylint: disable=broad-except
            _LOGGER.warning("Could not prune old backups in %s: %s", backup_dir, error)
    return backup


def _back_up(output: str, backup_dir: str, previous: bytes) -> str:
    """Saves the output's current bytes as a new backup, unless the newest backup already holds them."""
    newest = list_backups(backup_dir, output)[-1:]
    if newest and hashlib.blake2b(previous, digest_size=16).hexdigest() == _digest(newest[0]):
        return newest[0]
    ensure_dir(backup_dir)
    backup = FileSystems.join(backup_dir, backup_name(output, datetime.datetime.now(datetime.timezone.utc)))
    atomic_write(backup, previous)
    return backup


class _WriteDatabaseFn(beam.DoFn):
    def __init__(self, output: str, backup_dir: str, keep_backups: int):
        self._output = output
        self._backup_dir = backup_dir
        self._keep_backups = keep_backups

    def process(self, snapshot: database.Snapshot, patches: Iterable[tuple[str, dict]]) -> Iterable[dict]:
        progress.mark("writing")
        patches = dict(patches)
        items = snapshot.items()
        unknown = set(patches) - {key for key, _ in items}
        if unknown:
            raise SinkError(f"{len(unknown)} results have no record in the input, e.g. {sorted(unknown)[:3]}")
        data = database.serialize_chunks(snapshot, database.apply_patches(items, patches), changed=patches.keys())
        try:
            # Updating in place, the previous output is the file just read: its backup needs no second read.
            previous = snapshot.bytes() if snapshot.path == self._output else None
            backup = write_database(self._output, self._backup_dir, data, self._keep_backups, previous)
            if backup == UNCHANGED:
                Metrics.counter(NAMESPACE, "database_unchanged").inc()
                _LOGGER.info("%s is unchanged: nothing written", self._output)
                yield {"output": self._output, "backup": None, "records": len(items), "updated": 0}
                return
        except SinkError:
            raise
        except OSError as error:
            # Disk full, permission denied, ...: said in one line; the previous database is untouched.
            reason = error.strerror or str(error)
            where = f" ({error.filename})" if getattr(error, "filename", None) else ""
            raise SinkError(f"could not write {self._output}: {reason}{where}; "
                            "the previous database is unchanged") from None
        _LOGGER.info("Wrote %d records (%d updated) to %s", len(items), len(patches), self._output)
        yield {"output": self._output, "backup": backup, "records": len(items), "updated": len(patches)}


class WriteDatabase(beam.PTransform):
    """Writes ONE database file: every input record in its order, with the patches' top-level fields set.

    Args:
        snapshot: the single-element PCollection of `database.Snapshot` from `ReadMovieDatabase`.
        output: the file to replace, any FileSystems path.
        backup_dir: where the previous output is copied, with a UTC timestamp in its name.
        keep_backups: how many backups of this output to keep (0 keeps all).

    Input: (key, patch) pairs, where a patch is a dict of top-level fields. Output: one dict that says what
    was written. The patches are a side input of the single snapshot element, so the file is written once,
    after every patch has arrived, and also when there is no patch at all.
    """

    def __init__(self, snapshot, output: str, backup_dir: str, keep_backups: int = 10):
        super().__init__()
        self._snapshot = snapshot
        self._output = output
        self._backup_dir = backup_dir
        self._keep_backups = keep_backups

    def expand(self, patches):
        return self._snapshot | "Write" >> beam.ParDo(
            _WriteDatabaseFn(self._output, self._backup_dir, self._keep_backups),
            patches=beam.pvalue.AsIter(patches))


def default_backup_dir(output: str) -> str:
    directory = FileSystems.split(output)[0]
    return FileSystems.join(directory, "backups") if directory else "backups"


def beside(output: str, suffix: str) -> str:
    """A path beside the output named after it: `db/movies.json` -> `db/movies.json<suffix>`."""
    directory, name = FileSystems.split(output)
    return FileSystems.join(directory, name + suffix) if directory else name + suffix

