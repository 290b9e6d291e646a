"""Keys a database holds more than once: what a run does about them (`--on_duplicate_keys`) and how it tells."""

import logging
from typing import Iterable

import apache_beam as beam
import orjson

from movie_enrichment.io import progress
from movie_enrichment.io.database.snapshot import DatabaseError, Snapshot

_LOGGER = logging.getLogger(__name__)

# What a key the database holds more than once does: keep its last record (as every JSON parser does), or stop.
KEEP_LAST, FAIL = "keep_last", "fail"
ON_DUPLICATE_KEYS = (KEEP_LAST, FAIL)
# Beam metrics of the read: how many keys the file holds more than once, and (some of) their names.
DUPLICATE_KEYS_METRIC = "duplicate_keys"
DUPLICATE_NAMES_METRIC = "duplicate_key_names"
_NAMED_DUPLICATES = 20


def describe_duplicates(duplicates: Iterable[tuple[str, int]], limit: int = 3) -> str:
    """`"Heat" (2 times), "Alien" (3 times) and 4 more`: the first duplicated keys, for one line."""
    duplicates = list(duplicates)
    named = ", ".join(f"{orjson.dumps(key).decode()} ({count} times)" for key, count in duplicates[:limit])
    more = len(duplicates) - limit
    return named + (f" and {more} more" if more > 0 else "")


def duplicates_from_metric(values: Iterable[str]) -> list[tuple[str, int]]:
    """The (key, count) pairs of the `duplicate_key_names` metric, in the file's order."""
    return [(key, count) for _, key, count in sorted(orjson.loads(value) for value in values)]


def check_duplicates(snapshot: Snapshot, on_duplicate_keys: str) -> None:
    """Stops the run (`--on_duplicate_keys fail`) when the input holds a key more than once.

    Raises:
        DatabaseError: one line naming the first duplicated keys.
    """
    if snapshot.duplicates and on_duplicate_keys == FAIL:
        count = len(snapshot.duplicates)
        raise DatabaseError(
            f"input holds {count} key{'s' if count > 1 else ''} more than once: "
            f"{describe_duplicates(snapshot.duplicates)}; nothing was written "
            f"(--on_duplicate_keys keep_last keeps the last record of each): {snapshot.path}")


def report_duplicates(snapshot: Snapshot, on_duplicate_keys: str) -> None:
    """Says that the input holds keys more than once (a warning and the `duplicate_keys` metrics), or stops the
    run (`check_duplicates`); nothing when every key is there once."""
    if not snapshot.duplicates:
        return
    _LOGGER.warning("%s holds %d keys more than once: %s; the last record of each is kept", snapshot.path,
                    len(snapshot.duplicates), describe_duplicates(snapshot.duplicates))
    check_duplicates(snapshot, on_duplicate_keys)
    beam.metrics.Metrics.counter(progress.METRICS_NAMESPACE, DUPLICATE_KEYS_METRIC).inc(len(snapshot.duplicates))
    names = beam.metrics.Metrics.string_set(progress.METRICS_NAMESPACE, DUPLICATE_NAMES_METRIC)
    for order, (key, count) in enumerate(snapshot.duplicates[:_NAMED_DUPLICATES]):
        names.add(orjson.dumps([order, key, count]).decode())
