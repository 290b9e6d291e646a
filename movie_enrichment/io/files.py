"""Writing a file atomically, the one way this program replaces any file, and the paths beside a file.

A file is written under a temporary name beside its target, flushed to disk, then renamed onto the target in
one step, so that a reader (or a crash) only ever sees the old file or the whole new one. Every path goes
through Beam's FileSystems (local, `gs://`, `s3://`), imported on first use: the console's process and the
progress counters import this module without paying for Apache Beam's import (0.8 s).
"""

import ctypes
import errno
import logging
import os
import re
import uuid
from typing import Any, Iterable

_LOGGER = logging.getLogger(__name__)

# Beam's own test of a path's scheme (FileSystems.get_scheme): a path without one is a local file.
_SCHEME = re.compile(r"^([a-zA-Z][-a-zA-Z0-9+.]*)://")


def _filesystems():
    from apache_beam.io.filesystems import FileSystems  # pylint: disable=import-outside-toplevel
    return FileSystems


def is_local(path: str) -> bool:
    """Whether Beam's FileSystems takes `path` for a local file (it has no `scheme://`)."""
    return _SCHEME.match(path.strip()) is None


def _split(path: str) -> tuple[str, str]:
    return os.path.split(path) if is_local(path) else _filesystems().split(path)


def _join(directory: str, name: str) -> str:
    return os.path.join(directory, name) if is_local(directory) else _filesystems().join(directory, name)


def resolved(path: str) -> str:
    """The file a local `path` names through any symbolic links (what a write must replace so that a link stays a
    link, and what two spellings of one file have in common); other paths as they are."""
    return os.path.realpath(path) if is_local(path) else path


def beside(path: str, suffix: str) -> str:
    """A path beside a file named after it: `db/movies.json` -> `db/movies.json<suffix>`."""
    directory, name = _split(path)
    return _join(directory, name + suffix) if directory else name + suffix


def temp_name(path: str) -> str:
    """A fresh temporary name beside `path`, on the same file system, so that renaming it onto `path` is atomic."""
    directory, name = _split(path)
    return _join(directory, f".{name}.tmp-{uuid.uuid4().hex}") if directory else f".{name}.tmp-{uuid.uuid4().hex}"


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
    filesystems = _filesystems()
    if not filesystems.exists(path):
        try:
            filesystems.mkdirs(path)
        except OSError:
            if not filesystems.exists(path):
                raise


def read(path: str) -> bytes:
    """A whole (small) file's bytes: a local file with the standard library, any other through FileSystems.

    Raises:
        OSError: it is missing (FileNotFoundError for a local file) or cannot be read.
    """
    if is_local(path):
        with open(path, "rb") as handle:
            return handle.read()
    filesystems = _filesystems()
    if not filesystems.exists(path):
        raise FileNotFoundError(errno.ENOENT, "no such file", path)
    with filesystems.open(path) as handle:
        return handle.read()


def write_temp(path: str, data: bytes | Iterable[bytes], mime_type: str = "application/octet-stream",
               durable: bool = True) -> str:
    """Writes `data` (bytes, or an iterable of chunks) under a temporary name beside `path` and returns that name.

    Args:
        durable: flush it to disk (fsync) before it is renamed, so that a power cut cannot leave the target
            empty; False for files that are rewritten every second and worthless after a crash (progress).
    """
    from apache_beam.io.filesystem import CompressionTypes  # pylint: disable=import-outside-toplevel
    temp = temp_name(path)
    try:
        with _filesystems().create(temp, mime_type=mime_type,
                                   compression_type=CompressionTypes.UNCOMPRESSED) as out:
            for chunk in ([data] if isinstance(data, bytes) else data):
                out.write(chunk)
            if durable and is_local(temp):
                out.flush()
                os.fsync(out.fileno())
    except BaseException:
        discard(temp)
        raise
    return temp


def discard(temp: str) -> None:
    """Removes a temporary file if it exists; a failure is logged, never raised."""
    try:
        filesystems = _filesystems()
        if filesystems.exists(temp):
            filesystems.delete([temp])
    except Exception:  # pylint: disable=broad-except
        _LOGGER.warning("Could not remove the temporary file %s", temp)


def publish(temp: str, path: str, durable: bool = True) -> None:
    """Renames a finished temporary file onto `path` in one atomic step (a copy + delete on object stores,
    which publish an object whole or not at all); `durable` makes the rename itself durable (fsync of the
    folder)."""
    try:
        _filesystems().rename([temp], [path])
    except BaseException:
        discard(temp)
        raise
    if durable and is_local(path):
        fsync(_split(path)[0] or ".")


def atomic_write(path: str, data: bytes | Iterable[bytes], mime_type: str = "application/json",
                 durable: bool = True) -> None:
    """Replaces `path` with `data` in one step: written beside it, flushed, then renamed onto it. A reader sees
    the old file or the whole new one, never part of either; `durable=False` skips the two fsyncs."""
    publish(write_temp(path, data, mime_type, durable), path, durable)


def copy_atomically(source: str, target: str) -> None:
    """Copies under a temporary name, then renames: a full disk never leaves a truncated copy."""
    temp = temp_name(target)
    try:
        _filesystems().copy([source], [temp])
        fsync(temp)
    except Exception:
        discard(temp)
        raise
    publish(temp, target)


def remove_stale_temps(path: str) -> None:
    """Removes temporary files that a killed writer left beside `path` (the caller holds the lock of `path`)."""
    directory, name = _split(path)
    pattern = _join(directory, f".{name}.tmp-*") if directory else f".{name}.tmp-*"
    try:
        filesystems = _filesystems()
        stale = [m.path for m in filesystems.match([pattern])[0].metadata_list]
        if stale:
            filesystems.delete(stale)
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
    matched = _filesystems().match([path])[0].metadata_list
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
