"""JSON Lines files beside a database (the review list, the failures list, the console's run history): the one
reader and the one writer of their lines."""

import logging
from typing import Any, Iterable, Iterator

import orjson

from movie_enrichment.io import files

_LOGGER = logging.getLogger(__name__)

MIME_TYPE = "application/x-ndjson"


def read(path: str | None) -> list[dict]:
    """The JSON objects of a JSON Lines file, in order, through `files.read` (local or any FileSystems path).

    A missing or unreadable file gives none, and a line that is not a JSON object (cut short by a crash of a
    program that appends, or edited by hand) is skipped: these files list work to do, and a damaged one must
    not stop a run or a page.
    """
    return list(iterate(path))


def iterate(path: str | None) -> Iterator[dict]:
    """`read`, one object at a time: a long list (50,000 review entries) is never held as dicts all at once."""
    if path is None:
        return
    try:
        data = files.read(path)
    except FileNotFoundError:
        return
    except OSError as error:
        _LOGGER.warning("Could not read %s: %s", path, error)
        return
    for line in data.splitlines():
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(entry, dict):
            yield entry


def encode(entries: Iterable[Any]) -> bytes:
    """One compact JSON line per entry (dicts, dataclasses: whatever orjson encodes)."""
    return b"".join(orjson.dumps(entry) + b"\n" for entry in entries)


def write(path: str, entries: Iterable[Any]) -> None:
    """Replaces the file with these entries, atomically (`files.atomic_write`)."""
    files.atomic_write(path, encode(entries), mime_type=MIME_TYPE)
