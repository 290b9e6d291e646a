"""The sink as a Beam transform (`WriteDatabase`): the patches spooled, then one write step that commits them."""

import logging
from typing import Any, Iterable

import apache_beam as beam
from apache_beam.metrics import Metrics

from movie_enrichment.io import database, lock, progress
from movie_enrichment.io.sink import spool
from movie_enrichment.io.sink.optimistic import commit
from movie_enrichment.io.sink.patches import Digest, Patches, pack_patch
from movie_enrichment.io.sink.replace import SinkError
from movie_enrichment.model import NAMESPACE

_LOGGER = logging.getLogger(__name__)


class _WriteDatabaseFn(beam.DoFn):
    """The write step (Beam's finalize): commits the patches, then removes their spool. It may run again on the
    same inputs (a runner retries the bundle): the spool is kept until the commit has succeeded, and a run after
    that success writes nothing more and reports the same file."""

    def __init__(self, output: str, backup_dir: str, keep_backups: int, digest: Digest | None,
                 writer_wait: float | None, spool_dir: str | None = None):
        self._output = output
        self._backup_dir = backup_dir
        self._keep_backups = keep_backups
        self._digest = digest
        self._writer_wait = writer_wait
        self._spool_dir = spool_dir

    def process(self, snapshot: database.Snapshot, patches: Iterable[Any]) -> Iterable[dict]:
        """`patches`: (key, packed patch) pairs, or with a spool folder the paths of its files that hold them."""
        progress.mark("writing")
        if self._spool_dir is None:
            written = self._commit(snapshot, dict(patches))
        else:
            paths = list(patches)
            written = spool.committed(self._spool_dir, paths, self._output)  # by an earlier attempt
            recorded = True
            if written is None:
                written = self._commit(snapshot, dict(spool.read_spool(paths)))
                recorded = spool.record_commit(self._spool_dir, paths, written)
            if recorded:
                spool.remove_spool(self._spool_dir, paths)
        yield from self._report(written)

    def _report(self, written: dict) -> Iterable[dict]:
        written = dict(written)
        if written.get("already_committed"):
            _LOGGER.info("%s was written by an earlier attempt of this write; nothing more to do", self._output)
            yield written
            return
        for name in ("changes", "merged", "dropped", "skipped"):
            if written[name]:
                Metrics.counter(NAMESPACE, f"commit_{name}").inc(written[name])
        if written.pop("unchanged"):
            Metrics.counter(NAMESPACE, "database_unchanged").inc()
            _LOGGER.info("%s is unchanged: nothing written", self._output)
        _LOGGER.info("Wrote %d records (%d updated) to %s", written["records"], written["updated"], self._output)
        yield written

    def _commit(self, snapshot: database.Snapshot, patches: Patches) -> dict:
        try:
            return commit(snapshot, patches, self._output, self._backup_dir, self._keep_backups, self._digest,
                          self._writer_wait)
        except (SinkError, lock.LockBusy, database.DatabaseError):
            raise
        except OSError as error:
            # Disk full, permission denied, ...: said in one line; the previous database is untouched.
            reason = error.strerror or str(error)
            where = f" ({error.filename})" if getattr(error, "filename", None) else ""
            raise SinkError(f"could not write {self._output}: {reason}{where}; "
                            "the previous database is unchanged") from None


class WriteDatabase(beam.PTransform):
    """Writes ONE database file: every record in its order, with the patches' top-level fields set, onto the
    version of the file that is on disk when the run ends (see `optimistic.commit`).

    Args:
        snapshot: the single-element PCollection of `database.Snapshot` from `ReadMovieDatabase`.
        output: the file to replace, any FileSystems path.
        backup_dir: where the previous output is copied, with a UTC timestamp in its name.
        keep_backups: how many backups of this output to keep (0 keeps all).
        digest: digest(key, record) of a record's match inputs, the same function that made each patch's
            `LOOKED_UP` entry; default `default_digest`, a digest of all the record's own fields.
        writer_wait: seconds to wait for another writer's database lock (None: as long as it takes).
        spool_dir: a folder (any FileSystems path, this sink's alone; `spool.spool_dir_for`) where the patches
            are spooled on their way to the sink, kept until the commit has succeeded and removed then; None:
            they go through the runner.

    Input: (key, patch) pairs, where a patch is a dict of top-level fields, plus optionally `LOOKED_UP`.
    Output: one dict that says what was written. The patches are a side input of the single snapshot element,
    so the file is written once, after every patch has arrived, and also when there is no patch at all; they
    travel packed (`pack_patch`) and each is unpacked only as its record is written. With a spool folder, the
    side input is the paths of the files that hold them: the local engine holds a stage's whole output and
    passes a side input whole through its data plane, at several times its size in memory at once.
    """

    def __init__(self, snapshot, output: str, backup_dir: str, keep_backups: int = 10, digest: Digest | None = None,
                 writer_wait: float | None = lock.WRITER_WAIT_SECONDS, spool_dir: str | None = None):
        super().__init__()
        self._snapshot = snapshot
        self._spool_dir = spool_dir
        self._fn = _WriteDatabaseFn(output, backup_dir, keep_backups, digest, writer_wait, spool_dir)

    def expand(self, patches):
        if self._spool_dir is not None:
            spooled = patches | "Spool" >> beam.ParDo(spool.SpoolPatchesFn(self._spool_dir))
            return self._snapshot | "Write" >> beam.ParDo(self._fn, patches=beam.pvalue.AsList(spooled))
        packed = patches | "Pack" >> beam.MapTuple(lambda key, patch: (key, pack_patch(patch)))
        return self._snapshot | "Write" >> beam.ParDo(self._fn, patches=beam.pvalue.AsIter(packed))
