"""Joining records to a database's: patches' fields set on their records, new records from other movie files."""

from typing import Any, Iterable, Iterator

from movie_enrichment.io.database.snapshot import FORMAT_OBJECT, Snapshot, is_position_key, position_key


def apply_patches(items: Iterable[tuple[str, Any]], patches: dict[str, dict]) -> Iterator[tuple[str, Any]]:
    """Yields the records in their order, each patched record with the patch's top-level fields set."""
    for key, record in items:
        patch = patches.get(key)
        if patch and isinstance(record, dict):
            record = {**record, **patch}
        yield key, record


def merge_new_records(snapshot: Snapshot, items: list[tuple[str, Any]],
                      incoming: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The records of another movie file that the database does not hold yet, keyed as the database keys them.

    An object database is keyed by title: a new file's object keys are kept, and records of an array or JSON
    Lines file are keyed by their title. Existing keys are never overwritten.
    """
    known = {key for key, _ in items}
    added = []
    for key, record in incoming:
        if snapshot.format == FORMAT_OBJECT:
            if is_position_key(key) and isinstance(record, dict) and isinstance(record.get("title"), str):
                key = record["title"]
        else:
            key = position_key(len(items) + len(added))
        if key not in known:
            known.add(key)
            added.append((key, record))
    return added
