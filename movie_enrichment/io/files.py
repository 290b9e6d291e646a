"""General file helpers over Beam's FileSystems: paths beside a file, and writing a file atomically.

A file is written under a temporary name beside its target, flushed to disk, then renamed onto the target in
one step, so that a reader (or a crash) only ever sees the old file or the whole new one.
"""

import ctypes
import errno
import logging
import os
import uuid
from typing import Any, Iterable

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.io.localfilesystem import LocalFileSystem

_LOGGER = logging.getLogger(__name__)


def is_local(path: str) -> bool:
    return isinstance(FileSystems.get_filesystem(path), LocalFileSystem)


def beside(path: str, suffix: str) -> str:
    """A path beside a file named after it: `db/movies.json` -> `db/movies.json<suffix>`."""
    directory, name = FileSystems.split(path)
    return FileSystems.join(directory, name + suffix) if directory else name + suffix


def temp_name(path: str) -> str:
    """A fresh temporary name beside `path`, on the same file system, so that renaming it onto `path` is atomic."""
    directory, name = FileSystems.split(path)
    return FileSystems.join(directory, f".{name}.tmp-{uuid.uuid4().hex}") if directory \
        else f".{name}.tmp-{uuid.uuid4().hex}"


def fsync(path: str) -> None:
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


def write_temp(path: str, data: bytes | Iterable[bytes], mime_type: str) -> str:
    """Writes `data` (bytes, or an iterable of chunks) under a temporary name beside `path`, flushed to disk,
    and returns that name."""
    temp = temp_name(path)
    try:
        with FileSystems.create(temp, mime_type=mime_type, compression_type=CompressionTypes.UNCOMPRESSED) as out:
            for chunk in ([data] if isinstance(data, bytes) else data):
                out.write(chunk)
            if is_local(temp):
                out.flush()
                os.fsync(out.fileno())  # durable before it is renamed: a power cut cannot leave it empty
    except Exception:
        discard(temp)
        raise
    return temp


def discard(temp: str) -> None:
    """Removes a temporary file if it exists; a failure is logged, never raised."""
    try:
        if FileSystems.exists(temp):
            FileSystems.delete([temp])
    except Exception:  # pylint: disable=broad-except
        _LOGGER.warning("Could not remove the temporary file %s", temp)


def publish(temp: str, path: str) -> None:
    """Renames a finished temporary file onto `path` in one atomic step (a copy + delete on object stores,
    which publish an object whole or not at all)."""
    try:
        FileSystems.rename([temp], [path])
    except Exception:
        discard(temp)
        raise
    if is_local(path):
        fsync(FileSystems.split(path)[0] or ".")


def atomic_write(path: str, data: bytes, mime_type: str = "application/json") -> None:
    """Writes `data` to a temporary file beside `path`, flushes it, then renames it onto `path`."""
    publish(write_temp(path, data, mime_type), path)


def copy_atomically(source: str, target: str) -> None:
    """Copies under a temporary name, then renames: a full disk never leaves a truncated copy."""
    temp = temp_name(target)
    try:
        FileSystems.copy([source], [temp])
        fsync(temp)
    except Exception:
        discard(temp)
        raise
    publish(temp, target)


def remove_stale_temps(path: str) -> None:
    """Removes temporary files that a killed writer left beside `path` (the caller holds the lock of `path`)."""
    directory, name = FileSystems.split(path)
    pattern = FileSystems.join(directory, f".{name}.tmp-*") if directory else f".{name}.tmp-*"
    try:
        stale = [m.path for m in FileSystems.match([pattern])[0].metadata_list]
        if stale:
            FileSystems.delete(stale)
            _LOGGER.info("Removed %d temporary files left by an interrupted run", len(stale))
    except Exception as error:  # pylint: disable=broad-except
        _LOGGER.warning("Could not remove old temporary files beside %s: %s", path, error)


def signature(path: str) -> tuple[int, int, int] | None:
    """(size, modification time in ns, inode) of a file, or None when it does not exist; on object stores the
    inode is 0 and the time as precise as the store keeps it."""
    if is_local(path):
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            return None
        return stat.st_size, stat.st_mtime_ns, stat.st_ino
    matched = FileSystems.match([path])[0].metadata_list
    if not matched:
        return None
    return matched[0].size_in_bytes, int(matched[0].last_updated_in_seconds * 1e9), 0


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_renameat2: Any = None


def exchange(a: str, b: str) -> bool:
    """Swaps two existing local files in one atomic step (Linux `renameat2` with `RENAME_EXCHANGE`): afterwards
    `a` is exactly the file that `b` was at that instant. Returns False where the system or the file system
    cannot swap (the caller renames instead); raises OSError for any other failure."""
    global _renameat2  # pylint: disable=global-statement
    if _renameat2 is None:
        function = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)  # glibc 2.28 and later
        if function is not None:
            function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
            function.restype = ctypes.c_int
        _renameat2 = function or False
    if not _renameat2 or not (is_local(a) and is_local(b)):
        return False
    if _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        fsync(os.path.dirname(os.path.abspath(b)))
        return True
    error = ctypes.get_errno()
    if error in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(error, os.strerror(error), b)
