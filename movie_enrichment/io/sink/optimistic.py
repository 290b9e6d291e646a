"""The optimistic commit (`commit`): this run's patches onto whatever version of the file is there at the end."""

import dataclasses
import logging
import zlib
from typing import Any, Callable, Iterable

from movie_enrichment.io import database, files, lock
from movie_enrichment.io.sink.backups import backup, new_backup_path, prune_quietly
from movie_enrichment.io.sink.merge import CommitCounts, merge_onto
from movie_enrichment.io.sink.patches import Digest, PatchedRecords, Patches, default_digest
from movie_enrichment.io.sink.replace import SinkError, check_folder, unless_same

_LOGGER = logging.getLogger(__name__)

COMMIT_TRIES = 5

# The stages `commit` tells its `on_stage` callback about: "start" (the patches are in hand and the file not looked
# at yet), "written" (the new file is written beside the target; the last check and the rename are next) and
# "swap" (after the last look, the instant before the new file takes the output's place).
STAGES = ("start", "written", "swap")
OnStage = Callable[[str], None]


def _no_stage(_stage: str) -> None:
    pass


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


def commit(snapshot: database.Snapshot, patches: Patches, output: str, backup_dir: str,
           keep_backups: int = 10, digest: Digest | None = None,
           writer_wait: float | None = lock.WRITER_WAIT_SECONDS, tries: int = COMMIT_TRIES,
           on_stage: OnStage | None = None) -> dict:
    """Writes the database with this run's patches, onto whatever version of the file is there by then.

    Optimistic: the file as read at the start (`snapshot`, which need not hold its bytes) is compared with the
    file on disk. If another writer saved it meanwhile, that version is read and the patches re-applied onto it
    (`merge_onto`). The new file is written beside the target; then, just before the rename, the file is checked
    again; if it changed once more, the round starts over, at most `tries` times. The backup is the version
    actually replaced. The database lock is held throughout, so that writers who take it too
    (`lock.database_lock`) never race with the commit.

    Committing the same patches again gives the same file: they are already there, so the result is the file as
    it is and nothing is written (in place), or the same bytes are written again (another output).

    Args:
        on_stage: called with each of `STAGES` as the commit reaches it (tests save the file at those moments).

    Returns what was written: output, backup, records, updated, unchanged, and the `CommitCounts` fields.
    """
    digest = digest or default_digest
    on_stage = on_stage or _no_stage
    source = snapshot.path
    # What the writes replace: the file itself where the output is a symbolic link, so that the link stays a link.
    target = files.resolved(output)
    in_place = files.resolved(source) == target
    check_folder(output)
    on_stage("start")
    counts = CommitCounts()
    with lock.database_lock(output, timeout=writer_wait, command="movie-enrich (writing the database)"):
        files.remove_stale_temps(target)
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
            if in_place and unless_same(data, base.data) is None and _unchanged(source, base):
                return {"output": output, "backup": None, "records": len(items), "updated": 0, "unchanged": True,
                        **dataclasses.asdict(counts)}  # the result is the file as it is: nothing to write
            temp = files.write_temp(target, database.serialize_chunks(fmt, items, changed), "application/json")
            on_stage("written")
            saved, made = None, False
            try:
                if _unchanged(source, base):
                    saved, made = backup(output, backup_dir, base.data if in_place else None)
                    if in_place:
                        if _replace(temp, target, base, backup_dir, on_stage):
                            break
                    elif files.signature(source) == base.signature:  # the last look, just before the rename
                        files.publish(temp, target)
                        break
            except Exception:
                files.discard(temp)
                raise
            files.discard(temp)
            if made:
                files.discard(saved)  # a backup of a version that is not the one replaced
            _LOGGER.info("%s changed while it was being written; merging again", source)
        else:
            raise SinkError(f"{source} kept changing while this run wrote it ({tries} tries): another program "
                            "saves it continuously; nothing was written (this run's lookups are kept in its "
                            "checkpoints; make that program hold movie_enrichment.database_lock while it saves)")
    if saved:
        prune_quietly(backup_dir, output, keep_backups)
    return {"output": output, "backup": saved, "records": len(items), "updated": len(changed), "unchanged": False,
            **dataclasses.asdict(counts)}


def _replace(temp: str, output: str, base: Version, backup_dir: str, on_stage: OnStage) -> bool:
    """Puts the new file in place of `output` if `output` is still `base`; False if another program saved it.

    Where the system can (Linux), the new file and the output are swapped in one step, and what was swapped out is
    checked to be `base`: if another program saved in the instant between the last look and the swap, its file is
    swapped back at once. Elsewhere the output is looked at one last time just before the rename.
    """
    if files.signature(output) != base.signature:
        return False
    on_stage("swap")
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
    kept = new_backup_path(output, backup_dir)
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
        read = snapshot.with_bytes(found.data)  # the file as the run read it: its bytes are these
        items = database.records(read, wanted=patches.keys())  # the records patched; the others stay bytes
        unknown = set(patches) - {key for key, _ in items}
        if unknown:
            raise SinkError(f"{len(unknown)} results have no record in the input, e.g. {sorted(unknown)[:3]}")
        return read, PatchedRecords(items, patches), set(patches)
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
