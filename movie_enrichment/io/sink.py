"""The database sink: one output file, written beside the target, the old one backed up, then an atomic rename;
this run's results merged onto the file as another program may have saved it meanwhile."""

import contextlib
import dataclasses
import datetime
import hashlib
import itertools
import json
import logging
import pickle
import re
import struct
import uuid
import zlib
from typing import Any, Callable, Iterable, Iterator

import apache_beam as beam
import orjson
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import GlobalWindows

from movie_enrichment.io import database, files, lock, progress
from movie_enrichment.model import NAMESPACE

_LOGGER = logging.getLogger(__name__)


class SinkError(OSError):
    """The output could not be written; the previous output is untouched."""


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


def _backup(output: str, backup_dir: str, previous: bytes | None) -> tuple[str | None, bool]:
    """Saves the output about to be replaced into the backups (from `previous`, its bytes as already read, else
    read from disk), unless the newest backup already holds those very bytes. Returns (the backup's path, whether
    this call made it); (None, False) when there is no output yet."""
    if not FileSystems.exists(output):
        return None, False
    if previous is None:
        previous = _read(output)
    newest = list_backups(backup_dir, output)[-1:]
    if newest and hashlib.blake2b(previous, digest_size=16).hexdigest() == _digest(newest[0]):
        return newest[0], False
    files.ensure_dir(backup_dir)
    backup = FileSystems.join(backup_dir, backup_name(output, datetime.datetime.now(datetime.timezone.utc)))
    files.atomic_write(backup, previous)
    return backup, True


def _prune_quietly(backup_dir: str, output: str, keep: int) -> None:
    try:
        _prune_backups(backup_dir, output, keep)
    except Exception as error:  # pylint: disable=broad-except
        _LOGGER.warning("Could not prune old backups in %s: %s", backup_dir, error)


def _check_folder(output: str) -> None:
    directory = FileSystems.split(output)[0]
    if directory and not FileSystems.exists(directory):
        raise SinkError(f"output folder does not exist: {directory}")


def write_database(output: str, backup_dir: str, data: bytes | Iterable[bytes], keep_backups: int = 10,
                   previous: bytes | None = None) -> str | None:
    """Replaces `output` with `data` safely and returns the backup path of the previous output, if any, or
    UNCHANGED when `data` is the output byte for byte (then nothing is written: no file, no backup, no rotation).

    The order is the point: the new file is written beside the target and flushed; then the previous output
    is saved into the backups (from `previous`, its bytes as already read, else read from disk) unless the
    newest backup already holds those very bytes; then one rename puts the new file in place. At every moment
    the output is the old file or the whole new one.
    """
    _check_folder(output)
    files.remove_stale_temps(output)
    exists = FileSystems.exists(output)
    if exists and previous is None:
        previous = _read(output)
    if exists:
        data = _unless_same(data, previous)
        if data is None:
            return UNCHANGED
    temp = files.write_temp(output, data, "application/json")
    try:
        backup, _ = _backup(output, backup_dir, previous)
    except Exception:
        files.discard(temp)
        raise
    files.publish(temp, output)
    if backup:
        _prune_quietly(backup_dir, output, keep_backups)
    return backup


# --- The optimistic commit: this run's patches onto whatever version of the file is there at the end ----------

OWN_FIELDS = ("tmdb", "images", "enrichment")  # the fields this tool writes into a record; all others are the user's
# A patch's entry that holds the digest of the record's match inputs as they were looked up; never written.
LOOKED_UP = "__looked_up__"
COMMIT_TRIES = 5

Digest = Callable[[str, Any], str]
Patches = dict[str, dict | bytes]  # key -> patch, or the patch packed by `pack_patch`


def default_digest(key: str, record: Any) -> str:
    """A digest of a record's own fields (all but this tool's): the conservative stand-in for a digest of its
    match inputs, when the graph gives the sink none."""
    own = {k: v for k, v in record.items() if k not in OWN_FIELDS} if isinstance(record, dict) else record
    try:
        data = orjson.dumps(own, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:  # deeper than orjson goes, or a huge integer
        data = json.dumps(own, sort_keys=True).encode("utf-8")
    return hashlib.blake2b(data, digest_size=12).hexdigest()


@dataclasses.dataclass(frozen=True)
class Version:
    """One version of the database file as found on disk: its bytes and how to recognise it again."""

    data: bytes
    signature: tuple[int, int, int]  # size, mtime in ns, inode
    crc: int


def read_version(path: str) -> Version | None:
    """The file's current bytes with its signature taken BEFORE the read: a save that lands during the read
    leaves a signature that no longer matches, so the file is never taken for unchanged when it is not."""
    signature = files.signature(path)
    if signature is None:
        return None
    try:
        data = database.read_bytes(path)
    except database.DatabaseError:
        if files.signature(path) is None:
            return None
        raise
    return Version(data, signature, zlib.crc32(data))


def _unchanged(path: str, version: Version) -> bool:
    """Whether the file is still exactly `version`: same signature, and same bytes (a save within the file
    system's timestamp tick can keep size and mtime)."""
    if files.signature(path) != version.signature:
        return False
    current = read_version(path)
    return current is not None and current.crc == version.crc and current.data == version.data


@dataclasses.dataclass
class CommitCounts:
    """What the commit did with this run's patches where another writer had changed the file meanwhile."""

    changes: int = 0  # times the file was found changed by another writer, and this run's patches re-applied
    merged: int = 0  # patches applied onto a version another writer had changed
    dropped: int = 0  # patches whose record the other writer deleted: it stays deleted
    skipped: int = 0  # patches whose record's match inputs changed meanwhile: no patch, selected next run


def pack_patch(patch: dict) -> bytes:
    """A patch as the sink holds it until its record is written: one bytes object (pickled: every value comes
    back as it was). The sink holds every patch of the run at once; as dicts, lists and strings they take about
    four times as much memory (5,000 real-sized patches: 25 MiB against 6 MiB)."""
    return pickle.dumps(patch, protocol=pickle.HIGHEST_PROTOCOL)


def _split(patch: dict | bytes) -> tuple[dict, str | None]:
    """(the fields to set, the digest of the match inputs as looked up), from a patch or a packed one."""
    if isinstance(patch, bytes):
        patch = pickle.loads(patch)  # made by pack_patch in this very run
    if LOOKED_UP not in patch:
        return patch, None
    return {k: v for k, v in patch.items() if k != LOOKED_UP}, patch[LOOKED_UP]


def merge_onto(snapshot: database.Snapshot, items: list[tuple[str, Any]], patches: Patches,
               digest: Digest, counts: CommitCounts, changed: set[str]) -> list[tuple[str, Any]]:
    """This run's patches applied onto a version of the database that another writer changed.

    Every record, field and key order of that version is kept; a patch only sets its own fields. A patch is
    dropped when its record is gone, and skipped when the record's match inputs (digest) are no longer those
    that were looked up. In an array or JSON Lines file, where a key is a position, a patch whose position now
    holds another record goes to the one record elsewhere with the same match inputs, if there is exactly one.
    The keys of the records patched are added to `changed`.
    """
    positional = snapshot.format != database.FORMAT_OBJECT
    out = list(items)
    index = {key: i for i, (key, _) in enumerate(out)}
    used: set[int] = set()
    homeless: list[tuple[str, dict, str]] = []
    for key, patch in patches.items():
        fields, looked_up = _split(patch)
        i = index.get(key)
        record = out[i][1] if i is not None else None
        if isinstance(record, dict) and (looked_up is None or digest(key, record) == looked_up):
            out[i] = (key, {**record, **fields})
            used.add(i)
            changed.add(key)
            counts.merged += 1
        elif positional and looked_up is not None:
            homeless.append((key, fields, looked_up))
        elif i is None:
            counts.dropped += 1
        else:
            counts.skipped += 1
    if homeless:
        by_digest: dict[str, list[int]] = {}
        for i, (key, record) in enumerate(out):
            if i not in used and isinstance(record, dict):
                by_digest.setdefault(digest(key, record), []).append(i)
        for key, fields, looked_up in homeless:
            places = [i for i in by_digest.get(looked_up, ()) if i not in used]
            if len(places) == 1:
                i = places[0]
                out[i] = (out[i][0], {**out[i][1], **fields})
                used.add(i)
                changed.add(out[i][0])
                counts.merged += 1
            elif key in index:
                counts.skipped += 1
            else:
                counts.dropped += 1
    return out


# Test hooks: callables run at named stages of the commit ("start": the sink has its patches and has not looked
# at the file yet; "written": the new file is written beside the target, and the last check and the rename are
# next), so that tests can save the file at exactly those moments.
_HOOKS: dict[str, Callable[[], None]] = {}


@contextlib.contextmanager
def hook(stage: str, action: Callable[[], None]) -> Iterator[None]:
    """Runs `action` each time the commit reaches `stage`, in this process, for the `with` block (tests)."""
    _HOOKS[stage] = action
    try:
        yield
    finally:
        _HOOKS.pop(stage, None)


def _stage(name: str) -> None:
    action = _HOOKS.get(name)
    if action is not None:
        action()


def commit(snapshot: database.Snapshot, patches: Patches, output: str, backup_dir: str,
           keep_backups: int = 10, digest: Digest | None = None,
           writer_wait: float | None = lock.WRITER_WAIT_SECONDS, tries: int = COMMIT_TRIES) -> dict:
    """Writes the database with this run's patches, onto whatever version of the file is there by then.

    Optimistic: the file as read at the start (`snapshot`) is compared with the file on disk. If another writer
    saved it meanwhile, that version is read and the patches re-applied onto it (`merge_onto`). The new file is
    written beside the target; then, just before the rename, the file is checked again; if it changed once more,
    the round starts over, at most `tries` times. The backup is the version actually replaced. The database lock
    is held throughout, so that writers who take it too (`lock.database_lock`) never race with the commit.

    Returns what was written: output, backup, records, updated, and the `CommitCounts` fields.
    """
    digest = digest or default_digest
    source = snapshot.path
    in_place = source == output
    _check_folder(output)
    _stage("start")
    counts = CommitCounts()
    with lock.database_lock(output, timeout=writer_wait, command="movie-enrich (writing the database)"):
        files.remove_stale_temps(output)
        base: Version | None = None
        for _ in range(tries):
            found = read_version(source)
            if found is None:
                raise SinkError(f"the database {source} was removed while the run was going; nothing was written "
                                "(this run's lookups are kept in its checkpoints)")
            if base is None or found.data != base.data:
                fmt, items, changed = _patched(snapshot, found, patches, digest, counts)
            base = found
            data = database.serialize_chunks(fmt, items, changed)
            if in_place and _unless_same(data, base.data) is None and _unchanged(source, base):
                return {"output": output, "backup": None, "records": len(items), "updated": 0, "unchanged": True,
                        **dataclasses.asdict(counts)}  # the result is the file as it is: nothing to write
            temp = files.write_temp(output, database.serialize_chunks(fmt, items, changed), "application/json")
            _stage("written")
            backup, made = None, False
            try:
                if _unchanged(source, base):
                    backup, made = _backup(output, backup_dir, base.data if in_place else None)
                    if in_place:
                        if _replace(temp, output, base, backup_dir):
                            break
                    elif files.signature(source) == base.signature:  # the last look, just before the rename
                        files.publish(temp, output)
                        break
            except Exception:
                files.discard(temp)
                raise
            files.discard(temp)
            if made:
                files.discard(backup)  # a backup of a version that is not the one replaced
            _LOGGER.info("%s changed while it was being written; merging again", source)
        else:
            raise SinkError(f"{source} kept changing while this run wrote it ({tries} tries): another program "
                            "saves it continuously; nothing was written (this run's lookups are kept in its "
                            "checkpoints; make that program hold movie_enrichment.database_lock while it saves)")
    if backup:
        _prune_quietly(backup_dir, output, keep_backups)
    return {"output": output, "backup": backup, "records": len(items), "updated": len(changed), "unchanged": False,
            **dataclasses.asdict(counts)}


def _replace(temp: str, output: str, base: Version, backup_dir: str) -> bool:
    """Puts the new file in place of `output` if `output` is still `base`; False if another program saved it.

    Where the system can (Linux), the new file and the output are swapped in one step, and what was swapped out is
    checked to be `base`: if another program saved in the instant between the last look and the swap, its file is
    swapped back at once. Elsewhere the output is looked at one last time just before the rename.
    """
    if files.signature(output) != base.signature:
        return False
    _stage("swap")
    if not files.exchange(temp, output):
        files.publish(temp, output)
        return True
    displaced = temp  # now the file that was the output an instant ago
    if files.signature(displaced) == base.signature:
        files.discard(displaced)
        return True
    ours = files.signature(output)
    if files.exchange(displaced, output) and _inode(displaced) == _inode(ours):
        return False  # the other program's file is back in place; the caller drops ours and merges again
    # Yet another save landed in that same instant: what is swapped out now is kept in the backups, not dropped.
    kept = FileSystems.join(backup_dir, backup_name(output, datetime.datetime.now(datetime.timezone.utc)))
    files.ensure_dir(backup_dir)
    files.publish(displaced, kept)
    _LOGGER.warning("Several saves of %s landed while it was being replaced; one is kept as %s", output, kept)
    return False


def _inode(signature_or_path: tuple | str | None) -> int | None:
    signature = files.signature(signature_or_path) if isinstance(signature_or_path, str) else signature_or_path
    return signature[2] if signature else None


def _patched(snapshot: database.Snapshot, found: Version, patches: Patches, digest: Digest,
             counts: CommitCounts) -> tuple[database.Snapshot, Iterable[tuple[str, Any]], set[str]]:
    """(how to write, the records to write, the keys of the records patched) for the version found on disk.
    Every other record is written back as its bytes in that version (`database.serialize_chunks`)."""
    if snapshot.same_as(len(found.data), found.crc):
        snapshot.offer(found.data)
        items = snapshot.items()
        unknown = set(patches) - {key for key, _ in items}
        if unknown:
            raise SinkError(f"{len(unknown)} results have no record in the input, e.g. {sorted(unknown)[:3]}")
        return snapshot, _Replayable(items, _Fields(patches)), set(patches)
    snapshot.release()  # the records as first read are not needed any more: the other writer's version is
    counts.changes += 1
    counts.merged = counts.dropped = counts.skipped = 0
    current, items = database.parse_snapshot(snapshot.path, found.data)
    items = items + database.merge_new_records(current, items, list(snapshot.additions))
    changed: set[str] = set()
    items = merge_onto(current, items, patches, digest, counts, changed)
    _LOGGER.warning("%s was changed by another program during the run: %d results merged onto its version, "
                    "%d dropped (record deleted), %d skipped (title, year, director or ids changed)",
                    snapshot.path, counts.merged, counts.dropped, counts.skipped)
    return current, items, changed


class _Fields:
    """The fields each patch sets, unpacked one record at a time as the file is written (`database.apply_patches`
    asks only `get`), so that the patches are never all unpacked at once."""

    def __init__(self, patches: Patches):
        self._patches = patches

    def get(self, key: str) -> dict | None:
        patch = self._patches.get(key)
        return None if patch is None else _split(patch)[0]


class _Replayable:
    """The records with their patches applied, as an iterable that can be walked again on a retry."""

    def __init__(self, items: list[tuple[str, Any]], patches: "_Fields"):
        self._items = items
        self._patches = patches

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        return database.apply_patches(self._items, self._patches)

    def __len__(self) -> int:
        return len(self._items)


# --- The spool: the patches reach the sink through files, and only the files' paths through the runner ---------

_FRAME = struct.Struct("<II")  # a spooled patch: the key's length, the packed patch's length, then both
# Patches are gathered in memory up to this size, then written in one call: a write per patch released and
# took back the GIL each time, which a busy process pays for (0.4 s of the S1 profile's samples on that line).
_SPOOL_BUFFER = 1 << 20


class _SpoolPatchesFn(beam.DoFn):
    """Appends each patch, packed, to a file of its bundle's own in the spool folder as it comes, and emits the
    file's path when the bundle ends. A file is read only once its path is emitted, whole: a failed bundle's
    file is never read (its retry writes another one)."""

    def __init__(self, spool_dir: str):
        self._spool_dir = spool_dir
        self._path: str | None = None
        self._handle = None
        self._buffer = bytearray()

    def start_bundle(self) -> None:
        self._path, self._handle, self._buffer = None, None, bytearray()

    def process(self, element: tuple[str, dict]) -> None:
        key, patch = element
        if self._handle is None:
            files.ensure_dir(self._spool_dir)
            self._path = FileSystems.join(self._spool_dir, f"patches-{uuid.uuid4().hex}.bin")
            self._handle = FileSystems.create(self._path, mime_type="application/octet-stream",
                                              compression_type=CompressionTypes.UNCOMPRESSED)
        name, packed = key.encode("utf-8", "surrogatepass"), pack_patch(patch)
        self._buffer += _FRAME.pack(len(name), len(packed))
        self._buffer += name
        self._buffer += packed
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


def read_spool(paths: Iterable[str]) -> Iterator[tuple[str, bytes]]:
    """(key, packed patch) for every patch the spool files at `paths` hold, in their order."""
    for path in paths:
        data = _read(path)
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


def _remove_spool(spool_dir: str) -> None:
    try:
        if FileSystems.exists(spool_dir):
            FileSystems.delete([spool_dir])
    except Exception as error:  # pylint: disable=broad-except
        _LOGGER.warning("Could not remove the spooled patches in %s: %s", spool_dir, error)


class _WriteDatabaseFn(beam.DoFn):
    def __init__(self, output: str, backup_dir: str, keep_backups: int, digest: Digest | None,
                 writer_wait: float | None, spool_dir: str | None = None):
        self._output = output
        self._backup_dir = backup_dir
        self._keep_backups = keep_backups
        self._digest = digest
        self._writer_wait = writer_wait
        self._spool_dir = spool_dir

    def process(self, snapshot: database.Snapshot, patches: Iterable[Any]) -> Iterable[dict]:
        """`patches`: (key, packed patch) pairs, or with a spool folder the paths of its files that hold them."""
        progress.mark("writing")
        if self._spool_dir is None:
            written = self._commit(snapshot, dict(patches))
        else:
            try:
                written = self._commit(snapshot, dict(read_spool(patches)))
            finally:
                _remove_spool(self._spool_dir)  # written or not, the lookups are in the checkpoints
        for name in ("changes", "merged", "dropped", "skipped"):
            if written[name]:
                Metrics.counter(NAMESPACE, f"commit_{name}").inc(written[name])
        if written.pop("unchanged"):
            Metrics.counter(NAMESPACE, "database_unchanged").inc()
            _LOGGER.info("%s is unchanged: nothing written", self._output)
        _LOGGER.info("Wrote %d records (%d updated) to %s", written["records"], written["updated"], self._output)
        yield written

    def _commit(self, snapshot: database.Snapshot, patches: Patches) -> dict:
        try:
            return commit(snapshot, patches, self._output, self._backup_dir, self._keep_backups, self._digest,
                          self._writer_wait)
        except (SinkError, lock.LockBusy, database.DatabaseError):
            raise
        except OSError as error:
            # Disk full, permission denied, ...: said in one line; the previous database is untouched.
            reason = error.strerror or str(error)
            where = f" ({error.filename})" if getattr(error, "filename", None) else ""
            raise SinkError(f"could not write {self._output}: {reason}{where}; "
                            "the previous database is unchanged") from None


class WriteDatabase(beam.PTransform):
    """Writes ONE database file: every record in its order, with the patches' top-level fields set, onto the
    version of the file that is on disk when the run ends (see `commit`).

    Args:
        snapshot: the single-element PCollection of `database.Snapshot` from `ReadMovieDatabase`.
        output: the file to replace, any FileSystems path.
        backup_dir: where the previous output is copied, with a UTC timestamp in its name.
        keep_backups: how many backups of this output to keep (0 keeps all).
        digest: digest(key, record) of a record's match inputs, the same function that made each patch's
            `LOOKED_UP` entry; default `default_digest`, a digest of all the record's own fields.
        writer_wait: seconds to wait for another writer's database lock (None: as long as it takes).
        spool_dir: a folder (any FileSystems path, this sink's alone) where the patches are spooled on their way
            to the sink, removed once it is done; None: they go through the runner.

    Input: (key, patch) pairs, where a patch is a dict of top-level fields, plus optionally `LOOKED_UP`.
    Output: one dict that says what was written. The patches are a side input of the single snapshot element,
    so the file is written once, after every patch has arrived, and also when there is no patch at all; they
    travel packed (`pack_patch`) and each is unpacked only as its record is written. With a spool folder, the
    side input is the paths of the files that hold them: the local engine holds a stage's whole output and
    passes a side input whole through its data plane, at several times its size in memory at once.
    """

    def __init__(self, snapshot, output: str, backup_dir: str, keep_backups: int = 10, digest: Digest | None = None,
                 writer_wait: float | None = lock.WRITER_WAIT_SECONDS, spool_dir: str | None = None):
        super().__init__()
        self._snapshot = snapshot
        self._spool_dir = spool_dir
        self._fn = _WriteDatabaseFn(output, backup_dir, keep_backups, digest, writer_wait, spool_dir)

    def expand(self, patches):
        if self._spool_dir is not None:
            spooled = patches | "Spool" >> beam.ParDo(_SpoolPatchesFn(self._spool_dir))
            return self._snapshot | "Write" >> beam.ParDo(self._fn, patches=beam.pvalue.AsList(spooled))
        packed = patches | "Pack" >> beam.MapTuple(lambda key, patch: (key, pack_patch(patch)))
        return self._snapshot | "Write" >> beam.ParDo(self._fn, patches=beam.pvalue.AsIter(packed))


def default_backup_dir(output: str) -> str:
    directory = FileSystems.split(output)[0]
    return FileSystems.join(directory, "backups") if directory else "backups"


