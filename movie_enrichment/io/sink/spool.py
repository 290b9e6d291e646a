"""The spool: patches on their way to the sink (and review lines to theirs) in files of their own, kept until
their commit has succeeded.

Only the files' paths go through the runner: the local engine holds a side input whole, decoded and encoded
again, at several times its size. Like the temporary files of Beam's `WriteImpl`, the spool stays in
place until the commit has succeeded, so that a write the runner retries finds it; once the commit is done, a
record of it is left first (`committed.json`, naming the files), then the files go, then the record, then the
folder. A retried write tells from what it finds whether its patches are still to be committed.
"""

import logging
import struct
import uuid
from typing import Any, Callable, Iterable, Iterator

import apache_beam as beam
import orjson
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.transforms.window import GlobalWindows

from movie_enrichment.io import files, stop
from movie_enrichment.io.sink.backups import read_raw
from movie_enrichment.io.sink.patches import pack_patch
from movie_enrichment.io.sink.replace import SinkError

_LOGGER = logging.getLogger(__name__)

_FRAME = struct.Struct("<II")  # a spooled patch: the key's length, the packed patch's length, then both
# Patches are gathered in memory up to this size, then written in one call: a write per patch released and
# took back the GIL each time, which a busy process pays for (0.4 s of the S1 profile's samples on that line).
_SPOOL_BUFFER = 1 << 20
_RECORD = "committed.json"


def spool_dir_for(output: str) -> str:
    """The spool folder of the sink that writes `output`: `movies.json.patches`, beside it."""
    return files.beside(output, ".patches")


def _packed(element: tuple[str, dict]) -> tuple[str, bytes]:
    key, patch = element
    return key, pack_patch(patch)


class SpoolFn(beam.DoFn):
    """Appends each element, encoded as (key, bytes), to a file of its bundle's own in the spool folder as it
    comes, and emits the file's path when the bundle ends. A file is read only once its path is emitted, whole
    (`read_spool`): a failed bundle's file is never read (its retry writes another one).

    Args:
        spool_dir: the spool folder, any FileSystems path, this writer's alone.
        encode: element -> (key, bytes), a plain function (it is pickled with the DoFn).
        prefix: how the files' names start (`patches-<uuid>.bin`).
    """

    def __init__(self, spool_dir: str, encode: Callable[[Any], tuple[str, bytes]], prefix: str):
        self._spool_dir = spool_dir
        self._encode = encode
        self._prefix = prefix
        self._path: str | None = None
        self._handle = None
        self._buffer = bytearray()

    def start_bundle(self) -> None:
        self._path, self._handle, self._buffer = None, None, bytearray()

    def process(self, element: Any) -> None:
        key, data = self._encode(element)
        if self._handle is None:
            # A run asked to stop commits nothing: a bundle still going after the run's end removed the spool
            # must not make it again (a cancelled run left an empty `.patches/` folder).
            stop.check()
            files.ensure_dir(self._spool_dir)
            self._path = FileSystems.join(self._spool_dir, f"{self._prefix}-{uuid.uuid4().hex}.bin")
            self._handle = FileSystems.create(self._path, mime_type="application/octet-stream",
                                              compression_type=CompressionTypes.UNCOMPRESSED)
        name = key.encode("utf-8", "surrogatepass")
        self._buffer += _FRAME.pack(len(name), len(data))
        self._buffer += name
        self._buffer += data
        if len(self._buffer) >= _SPOOL_BUFFER:
            self._handle.write(self._buffer)
            self._buffer = bytearray()

    def finish_bundle(self) -> Iterable[Any]:
        if self._handle is not None:
            if self._buffer:
                self._handle.write(self._buffer)
            self._handle.close()
            yield GlobalWindows.windowed_value(self._path)
        self._path, self._handle, self._buffer = None, None, bytearray()


class SpoolPatchesFn(SpoolFn):
    """The sink's spool: each (key, patch) pair with its patch packed (`pack_patch`), in `patches-*.bin` files.

    Args:
        spool_dir: the spool folder, any FileSystems path, this sink's alone.
    """

    def __init__(self, spool_dir: str):
        super().__init__(spool_dir, _packed, "patches")


def read_spool(paths: Iterable[str]) -> Iterator[tuple[str, bytes]]:
    """(key, bytes) for every element the spool files at `paths` hold (for the sink's, the packed patches), in
    their order; a file is read whole, one at a time.

    Raises:
        SinkError: a file is cut short.
    """
    for path in paths:
        data = read_raw(path)
        offset = 0
        while offset < len(data):
            if offset + _FRAME.size > len(data):
                raise SinkError(f"a spooled patches file is cut short: {path}")
            size, packed_size = _FRAME.unpack_from(data, offset)
            start = offset + _FRAME.size
            offset = start + size + packed_size
            if offset > len(data):
                raise SinkError(f"a spooled patches file is cut short: {path}")
            yield data[start:start + size].decode("utf-8", "surrogatepass"), data[start + size:offset]


def _names(paths: Iterable[str]) -> list[str]:
    return sorted(FileSystems.split(path)[1] for path in paths)


def committed(spool_dir: str, paths: list[str], output: str) -> dict | None:
    """What an earlier attempt of this very write committed, or None when the patches at `paths` are still to be
    committed (or there are none: committing nothing again writes the same file).

    An earlier attempt succeeded when the spool's record names exactly these files, or when the files are all
    gone: the spool is removed only once its commit has succeeded (Beam's finalize reasons alike: a temporary
    file gone and its target there is a rename already made). The answer for the latter is only
    `{"output": ..., "already_committed": True}`: what that attempt counted went with its record.

    Raises:
        SinkError: some of the files are gone but not all, or all are gone and so is the output.
    """
    if not paths:
        return None
    record = _read_record(spool_dir)
    if record is not None and record.get("files") == _names(paths):
        return record["written"]
    missing = [path for path in paths if not FileSystems.exists(path)]
    if not missing:
        return None
    if len(missing) == len(paths) and FileSystems.exists(output):
        return {"output": output, "already_committed": True}
    raise SinkError(f"{len(missing)} of the {len(paths)} files of spooled patches are gone from {spool_dir}, "
                    f"e.g. {missing[0]}; nothing was written (this run's lookups are kept in its checkpoints)")


def record_commit(spool_dir: str, paths: list[str], written: dict) -> bool:
    """Leaves the record that the patches at `paths` are committed (`written`, the commit's result), before the
    spool goes. False, with a warning, when it cannot be written: the spool is then kept, so that a retry commits
    the same patches again (the same file) instead of finding some of them gone."""
    if not paths:
        return True
    try:
        files.atomic_write(FileSystems.join(spool_dir, _RECORD),
                           orjson.dumps({"files": _names(paths), "written": written}))
    except Exception as error:  # pylint: disable=broad-except
        _LOGGER.warning("Could not record the commit in %s (%s); the spooled patches are kept", spool_dir, error)
        return False
    return True


def _read_record(spool_dir: str) -> dict | None:
    path = FileSystems.join(spool_dir, _RECORD)
    if not FileSystems.exists(path):
        return None
    try:
        return orjson.loads(read_raw(path))
    except (OSError, orjson.JSONDecodeError):
        return None  # a record cut short is no record: the files decide


def remove_spool(spool_dir: str, paths: Iterable[str] = ()) -> None:
    """Removes the spool: the files at `paths` first, then the commit's record, then the folder and whatever an
    earlier run left in it. What is gone already is skipped, so it may run again; a failure is only a warning
    (the database is written by then, or the run is over)."""
    try:
        for group in ([*paths], [FileSystems.join(spool_dir, _RECORD)], [spool_dir]):
            present = [path for path in group if FileSystems.exists(path)]
            if present:
                FileSystems.delete(present)
    except Exception as error:  # pylint: disable=broad-except
        _LOGGER.warning("Could not remove the spooled patches in %s: %s", spool_dir, error)
