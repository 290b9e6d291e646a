"""The database file as one read saw it (`Snapshot`): its format and layout, and its size and CRC-32 to know it again."""

import dataclasses
import zlib

from apache_beam.io.filesystems import FileSystems

from movie_enrichment.io import exactjson
from movie_enrichment.io.database.style import RecordStyle

FORMAT_OBJECT = "object"  # {"Title": {...}, ...}: the users' main format
FORMAT_ARRAY = "array"  # [{...}, {...}]
FORMAT_JSONL = "jsonl"  # one JSON value per line
UTF8_BOM = b"\xef\xbb\xbf"


class DatabaseError(ValueError):
    """A fatal problem with the database file; its message is one line that names the problem."""


def position_key(index: int) -> str:
    """The key of a record of an array or JSON Lines file: its position, `#0`, `#1`, ... (never a title)."""
    return f"#{index}"


def is_position_key(key: str) -> bool:
    return key.startswith("#") and key[1:].isdigit()


@dataclasses.dataclass
class Snapshot:
    """The input database as read once: how to write it back the same way, and how to recognise the file again.

    A snapshot travels through the runner without the file's bytes (`without_bytes`): only what a writer needs
    to know the file by (its size and CRC-32) and to write it back alike (format, indentation, where each record
    sits). The sink reads the file again and checks that it is the one read (`same_as`, or `bytes()`), on every
    runner alike; two snapshots of the same file are equal whether or not they hold its bytes.
    """

    path: str
    data: bytes | None = dataclasses.field(compare=False, repr=False)
    format: str
    bom: bool = False
    indent: int | None = None  # None: compact
    # Records merged in from other files (`--watch`), appended after the file's own records when written.
    additions: tuple = ()
    size: int = -1
    crc: int = 0
    # Where each of the file's records is in `data`, so that a record the run does not change is written back
    # as its original bytes; None when the records cannot be put back by position (duplicate keys).
    layout: exactjson.Layout | None = None
    # Keys the file holds more than once, with how often: only the last record of each is kept.
    duplicates: tuple[tuple[str, int], ...] = ()
    # How a file of one record per line writes its records; None for the other layouts (`style.detect`).
    style: RecordStyle | None = None

    def __post_init__(self):
        if self.data is not None and self.size < 0:
            self.size, self.crc = len(self.data), zlib.crc32(self.data)

    def bytes(self) -> bytes:
        """The database file's bytes as read: held, or read again and checked to be the same file.

        Raises:
            DatabaseError: the file is not the one read any more.
        """
        if self.data is not None:
            return self.data
        data = read_bytes(self.path)
        if not self.same_as(len(data), zlib.crc32(data)):
            raise DatabaseError(f"the input changed while the run was going: {self.path}")
        return data

    def same_as(self, size: int, crc: int) -> bool:
        """Whether a file of this size and CRC-32 is the file as this snapshot read it."""
        return size == self.size and crc == self.crc

    def with_bytes(self, data: bytes) -> "Snapshot":
        """This snapshot holding `data`, the file's bytes read again and found the same (`same_as`)."""
        return dataclasses.replace(self, data=data)

    def without_bytes(self) -> "Snapshot":
        """This snapshot as it travels through the runner: everything but the file's bytes."""
        return dataclasses.replace(self, data=None)


def read_bytes(path: str) -> bytes:
    """Reads a whole file through Beam's FileSystems, with one clear error for each way it can fail."""
    try:
        if not FileSystems.exists(path):
            raise DatabaseError(f"input file not found: {path}")
        with FileSystems.open(path) as handle:
            return handle.read()
    except IsADirectoryError:
        raise DatabaseError(f"input is a directory, not a file: {path}") from None
    except PermissionError:
        raise DatabaseError(f"input file is not readable (permission denied): {path}") from None
    except DatabaseError:
        raise
    except OSError as error:
        if "directory" in str(error).lower():
            raise DatabaseError(f"input is a directory, not a file: {path}") from None
        raise DatabaseError(f"cannot read input {path}: {error.strerror or error}") from None
