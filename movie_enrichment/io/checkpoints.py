"""Checkpoints: each finished batch of lookups in its own file, written atomically, read back by a rerun."""

import hashlib
import logging
from typing import Iterable, Iterator

import apache_beam as beam
import orjson
from apache_beam.io.filesystems import FileSystems

from movie_enrichment.io.files import atomic_write, ensure_dir

_LOGGER = logging.getLogger(__name__)

_PREFIX = "batch-"
_SUFFIX = ".json"
FORMAT_VERSION = 1


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

    def write_batch(self, hits: list[dict]) -> str | None:
        if not hits:
            return None
        if not self._ready:
            ensure_dir(self.directory)
            self._ready = True
        digest = hashlib.blake2b("\n".join(sorted(h["key"] for h in hits)).encode("utf-8"), digest_size=10)
        path = FileSystems.join(self.directory, f"{_PREFIX}{digest.hexdigest()}{_SUFFIX}")
        atomic_write(path, orjson.dumps({"version": FORMAT_VERSION, "hits": hits}))
        return path

    def paths(self) -> list[str]:
        if not FileSystems.exists(self.directory):
            return []
        pattern = FileSystems.join(self.directory, f"{_PREFIX}*{_SUFFIX}")
        return sorted(m.path for m in FileSystems.match([pattern])[0].metadata_list)

    def read_all(self) -> Iterator[dict]:
        """Every hit of every readable batch file; a damaged file is skipped (its movies are simply redone)."""
        for path in self.paths():
            try:
                with FileSystems.open(path) as handle:
                    body = orjson.loads(handle.read())
                if body.get("version") != FORMAT_VERSION:
                    continue
                yield from body["hits"]
            except Exception as error:  # pylint: disable=broad-except
                _LOGGER.warning("Ignoring unreadable checkpoint %s: %s", path, error)

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
    def process(self, directory: str) -> Iterable[tuple[str, dict]]:
        count = 0
        for hit in CheckpointStore(directory).read_all():
            count += 1
            yield hit["key"], hit
        if count:
            _LOGGER.info("Resuming: %d lookups read from checkpoints in %s", count, directory)


class ReadCheckpoints(beam.PTransform):
    """Reads every checkpointed lookup as (key, hit).

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
