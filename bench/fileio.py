"""Counting the opens of the database file, from `strace -f -e trace=openat` of a whole run.

Every open under the run's folder is classified: the database opened for reading, the database (or the
temporary file renamed onto it) opened for writing, a backup copy, checkpoint files, fsync-only opens, the
lock file and the rest. A read of the database followed (in the same thread) by the write of a backup is
the backup's copy, counted apart from the reads of the data.
"""

from __future__ import annotations

import collections
import os
import re
import shutil

_LINE = re.compile(r'^(?P<pid>\d+)\s+(?:openat\((?:AT_FDCWD|\d+), |open\()"(?P<path>[^"]*)", (?P<flags>[A-Z_|]+)')

CATEGORIES = ("db_read", "db_write", "backup_read", "backup_write", "checkpoint_read", "checkpoint_write",
              "fsync_reopen", "directory", "lock", "other_in_folder")


def available() -> bool:
    return shutil.which("strace") is not None


def wrap(argv: list[str], trace_path: str) -> list[str]:
    """The command under strace, following threads and children, tracing only open calls.

    --seccomp-bpf stops the traced process only on the traced calls, so the run is barely slowed.
    """
    return ["strace", "-f", "--seccomp-bpf", "-qq", "-e", "trace=openat,open,creat", "-o", trace_path, *argv]


def _is_write(flags: str) -> bool:
    return any(f in flags for f in ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC"))


def classify(trace_path: str, db_path: str) -> dict[str, int]:
    """Counts the opens under the database's folder, by category."""
    db = os.path.abspath(db_path)
    folder, name = os.path.split(db)
    temp_prefix = os.path.join(folder, f".{name}.tmp-")
    stem = name.rpartition(".")[0] or name
    backups = os.path.join(folder, "backups") + os.sep
    checkpoints = db + ".checkpoints" + os.sep
    counts: collections.Counter = collections.Counter()
    events: list[tuple[str, str, bool]] = []  # (pid, category, is_write) in order
    with open(trace_path, errors="replace") as handle:
        for line in handle:
            match = _LINE.match(line)
            if not match:
                continue
            path = os.path.normpath(os.path.join(folder, match["path"])) if not match["path"].startswith("/") \
                else os.path.normpath(match["path"])
            if not path.startswith(folder + os.sep):
                continue
            flags = match["flags"]
            write = _is_write(flags)
            base = os.path.basename(path)
            if "O_DIRECTORY" in flags:
                category = "directory"  # a listing, or the folder's fsync after a rename
            elif not write and (".tmp-" in base or (path.startswith(backups) and base.lstrip(".").startswith(stem + "."))):
                category = "fsync_reopen"  # a file just written, opened again only to fsync it
            elif path == db:
                category = "db_write" if write else "db_read"
            elif path.startswith(temp_prefix):
                category = "db_write"  # the new database, renamed onto it once complete
            elif path.startswith(backups) and base.lstrip(".").startswith(stem + "."):
                category = "backup_write"  # the backup itself, or the temporary file renamed onto it
            elif path.startswith(checkpoints):
                category = "checkpoint_write" if write else "checkpoint_read"
            elif path == db + ".lock":
                category = "lock"
            else:
                category = "other_in_folder"
            events.append((match["pid"], category, write))
    # A read of the database whose thread next opens a backup for writing is the backup's copy.
    for index, (pid, category, _) in enumerate(events):
        if category == "db_read":
            following = next((c for p, c, _ in events[index + 1:] if p == pid), None)
            if following == "backup_write":
                category = "backup_read"
        counts[category] += 1
    return {name: counts.get(name, 0) for name in CATEGORIES}
