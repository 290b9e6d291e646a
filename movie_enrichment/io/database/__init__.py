"""The movie database file, in one import: the names the rest of the project uses, from this package's modules.

- `snapshot`: the file as one read saw it (`Snapshot`), its formats, `DatabaseError`, `read_bytes`;
- `parse`: bytes to (key, record) pairs and a snapshot (`load`, `parse_snapshot`, `records`), a format from a
  file's first bytes (`format_from_head`);
- `encode`: records back to bytes in the snapshot's format, unchanged records as their original bytes;
- `style`: how a file of one record per line writes its records (`RecordStyle`), for the records written afresh;
- `merge`: patches' fields set on records, new records from other movie files;
- `duplicates`: keys the file holds more than once (`--on_duplicate_keys`);
- `read`: the pipeline's read (`ReadMovieDatabase`).
"""

from movie_enrichment.io.database.duplicates import (
    DUPLICATE_KEYS_METRIC,
    DUPLICATE_NAMES_METRIC,
    FAIL,
    KEEP_LAST,
    ON_DUPLICATE_KEYS,
    check_duplicates,
    describe_duplicates,
    duplicates_from_metric,
)
from movie_enrichment.io.database.encode import serialize, serialize_chunks
from movie_enrichment.io.database.merge import apply_patches, merge_new_records
from movie_enrichment.io.database.parse import UNPARSED, format_from_head, load, parse_snapshot, records
from movie_enrichment.io.database.read import ReadMovieDatabase
from movie_enrichment.io.database.snapshot import (
    FORMAT_ARRAY,
    FORMAT_JSONL,
    FORMAT_OBJECT,
    DatabaseError,
    Snapshot,
    is_position_key,
    position_key,
    read_bytes,
)
from movie_enrichment.io.database.style import RecordStyle

__all__ = [
    "DUPLICATE_KEYS_METRIC", "DUPLICATE_NAMES_METRIC", "FAIL", "FORMAT_ARRAY", "FORMAT_JSONL", "FORMAT_OBJECT",
    "KEEP_LAST", "ON_DUPLICATE_KEYS", "UNPARSED", "DatabaseError", "ReadMovieDatabase", "RecordStyle", "Snapshot",
    "apply_patches", "check_duplicates", "describe_duplicates", "duplicates_from_metric", "format_from_head",
    "is_position_key", "load", "merge_new_records", "parse_snapshot", "position_key", "read_bytes", "records",
    "serialize", "serialize_chunks",
]
