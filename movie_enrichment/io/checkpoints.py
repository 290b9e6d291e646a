"""Checkpoints: each finished batch of lookups in its own file, written atomically, read back by a rerun."""

import collections
import dataclasses
import hashlib
import logging
from typing import Any, Iterable, Iterator

import apache_beam as beam
import orjson
from apache_beam.io.filesystems import FileSystems

from movie_enrichment.io.files import atomic_write, ensure_dir
from movie_enrichment.model import Lookup

_LOGGER = logging.getLogger(__name__)

_PREFIX = "batch-"
_SUFFIX = ".json"
# 2: {"version": 2, "lookups": [...]}, each a `Lookup` without the record's context (`prior`, `looked_up`), which a
# rerun takes from the record. 1: {"version": 1, "hits": [...]}, the same lookups with that context; read too.
FORMAT_VERSION = 2
_CONTEXT = ("prior", "looked_up")
_KEPT = tuple(f.name for f in dataclasses.fields(Lookup) if f.name not in _CONTEXT)


def encode(lookup: Lookup) -> dict[str, Any]:
    """A lookup as a checkpoint file keeps it."""
    return {name: getattr(lookup, name) for name in _KEPT}


def decode(entry: dict[str, Any]) -> Lookup:
    """A lookup read back from a checkpoint file of either version (fields an older file lacks are None)."""
    values = {name: entry[name] for name in _KEPT if name in entry}
    return Lookup(**{**values, "enrichers": tuple(values["enrichers"])})


class CheckpointStore:
    """A folder of batch files, through Beam's FileSystems so it may live on an object store.

    Args:
        directory: the checkpoint folder (`--checkpoint_dir`).

    A batch file is named after the keys it holds, so writing the same batch twice (a retried bundle, or two
    workers given the same work) writes the same file: an idempotent side effect.
    """

    def __init__(self, directory: str):
        self.directory = directory
        self._ready = False

    def write_batch(self, lookups: list[Lookup]) -> str | None:
        if not lookups:
            return None
        if not self._ready:
            ensure_dir(self.directory)
            self._ready = True
        digest = hashlib.blake2b("\n".join(sorted(lookup.key for lookup in lookups)).encode("utf-8"), digest_size=10)
        path = FileSystems.join(self.directory, f"{_PREFIX}{digest.hexdigest()}{_SUFFIX}")
        atomic_write(path, orjson.dumps({"version": FORMAT_VERSION, "lookups": [encode(lookup) for lookup in lookups]}))
        return path

    def paths(self) -> list[str]:
        if not FileSystems.exists(self.directory):
            return []
        pattern = FileSystems.join(self.directory, f"{_PREFIX}*{_SUFFIX}")
        return sorted(m.path for m in FileSystems.match([pattern])[0].metadata_list)

    def read_all(self) -> Iterator[Lookup]:
        """Every lookup of every readable batch file, of this format or version 1. A damaged file, or one of
        another version, is skipped with a line in the log: its movies are simply looked up again."""
        unknown: collections.Counter = collections.Counter()
        for path in self.paths():
            try:
                with FileSystems.open(path) as handle:
                    body = orjson.loads(handle.read())
                version = body.get("version")
                if version not in (1, FORMAT_VERSION):
                    unknown[version] += 1
                    continue
                lookups = [decode(entry) for entry in body["hits" if version == 1 else "lookups"]]
            except Exception as error:  # pylint: disable=broad-except
                _LOGGER.warning("Ignoring unreadable checkpoint %s: %s", path, error)
                continue
            yield from lookups
        for version, count in unknown.items():
            _LOGGER.warning("Ignoring %d checkpoint file%s of format version %r in %s (this program reads 1 and "
                            "%d): their movies are looked up again", count, "" if count == 1 else "s", version,
                            self.directory, FORMAT_VERSION)

    def clear(self) -> None:
        """Removes the batch files and the folder; called only after the database has been written."""
        paths = self.paths()
        if paths:
            FileSystems.delete(paths)
        if FileSystems.exists(self.directory):
            leftovers = FileSystems.match([FileSystems.join(self.directory, "*")])[0].metadata_list
            if not leftovers:  # something else lives there: leave the folder and it alone
                FileSystems.delete([self.directory])


class _ReadCheckpointsFn(beam.DoFn):
    def process(self, directory: str) -> Iterable[tuple[str, Lookup]]:
        count = 0
        for hit in CheckpointStore(directory).read_all():
            count += 1
            yield hit.key, hit
        if count:
            _LOGGER.info("Resuming: %d lookups read from checkpoints in %s", count, directory)


class ReadCheckpoints(beam.PTransform):
    """Reads every checkpointed lookup as (key, Lookup).

    Args:
        directory: the checkpoint folder; a missing folder yields nothing.
    """

    def __init__(self, directory: str | None):
        super().__init__()
        self._directory = directory

    def expand(self, pbegin):
        return (pbegin
                | "Folder" >> beam.Create([self._directory] if self._directory else [])
                | "Read" >> beam.ParDo(_ReadCheckpointsFn()))
