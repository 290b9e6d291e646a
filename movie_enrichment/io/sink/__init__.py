"""The database sink, in one import: the names the rest of the project uses, from this package's modules.

- `patches`: this run's patches as the sink holds them (`LOOKED_UP`, `pack_patch`, `default_digest`);
- `backups`: the output's backups (names, saving the version replaced, rotation);
- `replace`: replacing an output file safely (`write_database`), `SinkError`;
- `merge`: this run's patches onto a version another writer saved meanwhile (`merge_onto`);
- `optimistic`: the optimistic commit onto whatever version is on disk at the end (`commit`);
- `spool`: patches on their way to the sink in files, kept until their commit has succeeded;
- `write`: the Beam transform (`WriteDatabase`) whose write step may run again.
"""

from movie_enrichment.io.sink.backups import backup_name, default_backup_dir, list_backups, prune_backups
from movie_enrichment.io.sink.merge import CommitCounts, merge_onto
from movie_enrichment.io.sink.optimistic import COMMIT_TRIES, STAGES, Version, commit, read_version
from movie_enrichment.io.sink.patches import (
    LOOKED_UP,
    OWN_FIELDS,
    Digest,
    Patches,
    default_digest,
    pack_patch,
    unpack_patch,
)
from movie_enrichment.io.sink.replace import UNCHANGED, SinkError, write_database
from movie_enrichment.io.sink.spool import read_spool, remove_spool, spool_dir_for
from movie_enrichment.io.sink.write import WriteDatabase

__all__ = [
    "COMMIT_TRIES", "LOOKED_UP", "OWN_FIELDS", "STAGES", "UNCHANGED", "CommitCounts", "Digest", "Patches", "SinkError",
    "Version", "WriteDatabase", "backup_name", "commit", "default_backup_dir", "default_digest", "list_backups",
    "merge_onto", "pack_patch", "prune_backups", "read_spool", "read_version", "remove_spool", "spool_dir_for",
    "unpack_patch", "write_database",
]
