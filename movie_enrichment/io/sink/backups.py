"""The output's backups: their names, saving the version about to be replaced, and rotating the old ones out."""

import datetime
import hashlib
import logging
import re

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from movie_enrichment.io import files

_LOGGER = logging.getLogger(__name__)


def default_backup_dir(output: str) -> str:
    directory = FileSystems.split(output)[0]
    return FileSystems.join(directory, "backups") if directory else "backups"


def backup_name(output: str, when: datetime.datetime) -> str:
    """`movies.json` -> `movies.20261125T121314123456Z.json`: sortable, one per run."""
    name = FileSystems.split(output)[1]
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stamp = when.strftime("%Y%m%dT%H%M%S%fZ")
    return f"{stem}.{stamp}.{ext}" if ext else f"{stem}.{stamp}"


def new_backup_path(output: str, backup_dir: str) -> str:
    """Where a backup of `output` made now goes."""
    return FileSystems.join(backup_dir, backup_name(output, datetime.datetime.now(datetime.timezone.utc)))


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


def read_raw(path: str) -> bytes:
    """A file's bytes as stored (a `.gz` output is not decompressed: its backup is the same bytes)."""
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        return handle.read()


def _digest(path: str) -> str:
    hasher = hashlib.blake2b(digest_size=16)
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(block)
    return hasher.hexdigest()


def backup(output: str, backup_dir: str, previous: bytes | None) -> tuple[str | None, bool]:
    """Saves the output about to be replaced into the backups (from `previous`, its bytes as already read, else
    read from disk), unless the newest backup already holds those very bytes. Returns (the backup's path, whether
    this call made it); (None, False) when there is no output yet."""
    if not FileSystems.exists(output):
        return None, False
    if previous is None:
        previous = read_raw(output)
    newest = list_backups(backup_dir, output)[-1:]
    if newest and hashlib.blake2b(previous, digest_size=16).hexdigest() == _digest(newest[0]):
        return newest[0], False
    files.ensure_dir(backup_dir)
    path = new_backup_path(output, backup_dir)
    files.atomic_write(path, previous)
    return path, True


def prune_backups(backup_dir: str, output: str, keep: int) -> None:
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


def prune_quietly(backup_dir: str, output: str, keep: int) -> None:
    """`prune_backups`, where a failure is only a warning: the database is written by then."""
    try:
        prune_backups(backup_dir, output, keep)
    except Exception as error:  # pylint: disable=broad-except
        _LOGGER.warning("Could not prune old backups in %s: %s", backup_dir, error)
