"""Running a resolved config: one enrichment (or the watch loop) under the lock, then cleanup and the summary."""

import dataclasses
import logging
import os
import tempfile
import time
from typing import TextIO

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from movie_enrichment.io import database, lock, progress, review, sink, stores
from movie_enrichment.io.checkpoints import CheckpointStore
from movie_enrichment.io.tmdb import TmdbClient, TmdbError
from movie_enrichment.model import new_run_id, now_iso
from movie_enrichment.pipelines import dry_run, metrics, process, report, runners
from movie_enrichment.pipelines.config import RunConfig, check_paths
from movie_enrichment.pipelines.enrich_pipeline import build_pipeline
from movie_enrichment.pipelines.errors import FatalError, exit_status_for, from_pipeline_error, usage
from movie_enrichment.transforms import lookup, selection, shared

_LOGGER = logging.getLogger(__name__)


class InputRefused(FatalError):
    """A bad input file (truncated, not a database), found before anything was written: the run leaves nothing
    beside it, neither its lock files nor its progress file (README: a fatal problem writes nothing)."""

    input_refused = True


def run(config: RunConfig, options: PipelineOptions, display: TextIO | None = None,
        quiet_stderr: bool = False) -> report.RunSummary:
    """Enriches the database once and returns the run's summary; raises FatalError for anything that stops it.

    Args:
        config: the resolved run (`config.resolve`).
        options: the pipeline's options, every default applied.
        display: where live progress goes (default: standard error), as `config.progress` says.
        quiet_stderr: set aside what Beam writes to standard error while the pipeline runs.
    """
    check_paths(config)
    run_id = os.environ.get(report.RUN_ID_ENV) or new_run_id()
    in_database = stores.is_store_url(config.input)
    if in_database:
        config = dataclasses.replace(config, run_id=run_id)  # the id of this run's rows in the history
    new_locks = lock.absent_lock_files(stores.sqlite_path(config.output) if config.output.startswith("sqlite:")
                                       else config.output)
    try:
        with process.one_run_at_a_time(config.output, config.table, config.lock_timeout, _holder(config)), \
                report.progress_file(
                config.progress_file, config.settings.api_key, run_id=run_id, input=stores.redact_url(config.input),
                output=stores.redact_url(config.output), report=config.report) as status:
            summary = _run_locked(config, options, display, quiet_stderr, run_id, status)
            if in_database:
                summary.backup = _keep_history(config)
            if status is not None:
                status.update(phase="done", exit_status=summary.exit_status, eta_seconds=None)
            return summary
    except InputRefused:
        lock.remove_lock_files(new_locks)  # the run lock is released by now; taken again, they go
        raise


def _keep_history(config: RunConfig) -> str:
    """Trims a database's history to --keep_backups runs; says where this run's previous rows are."""
    with stores.open_store(config.output, config.table, create=False) as store:
        store.prune_history(config.keep_backups)
        changed = any(r.run_id == config.run_id for r in store.runs())
    if not changed:
        return "(none: no row changed)"
    return (f"run {config.run_id} in table {config.table}_history "
            f"(movie-enrich restore --input ... --run {config.run_id})")


def watch(config: RunConfig, options: PipelineOptions, out: TextIO, quiet_stderr: bool = False) -> int:
    """`--watch`: enriches the database with each batch of new files until a signal; returns the runs made."""
    from movie_enrichment.pipelines import watch as watch_loop
    check_paths(config)
    with process.one_run_at_a_time(config.output, config.table, config.lock_timeout, _holder(config)):
        try:
            return watch_loop.watch(config.watch, config.watch_interval,
                                    lambda c: _run_locked(c, options, None, quiet_stderr), config, out)
        except FileNotFoundError as error:
            raise usage(str(error)) from None


def _holder(config: RunConfig) -> str:
    """How this run describes itself to a run or a writer it makes wait (no secret: no key, no password)."""
    text = f"movie-enrich --input {stores.redact_url(config.input)}"
    if config.output != config.input:
        text += f" --output {stores.redact_url(config.output)}"
    return text + (f" --watch {config.watch}" if config.watch else "")


def _run_locked(config: RunConfig, options: PipelineOptions, display: TextIO | None, quiet_stderr: bool,
                run_id: str | None = None, status: progress.StatusFile | None = None) -> report.RunSummary:
    started, started_at = time.monotonic(), now_iso()
    before = _backups(config)
    replaces = bool(before) and FileSystems.exists(config.output)
    if config.settings.cache_path:
        # Created here, once, so that worker processes never race to create the same SQLite file; expired
        # entries, then the oldest beyond the size cap, go first.
        TmdbClient(config.settings).open_cache().prune()
    config, checked = _check_key_once(config, options)
    progress.TRACKER.reset()
    result = _run_pipeline(config, options, display, quiet_stderr, status)
    # The database is written: only now may the checkpoints go.
    if config.checkpoint_dir:
        CheckpointStore(config.checkpoint_dir).clear()
    new_backups = sorted(_backups(config) - before)
    summary = report.RunSummary(
        output=report.shown(stores.redact_url(config.output)),
        backup=report.shown(new_backups[-1]) if new_backups else None,
        failures=report.shown(config.failures) if FileSystems.exists(config.failures) else None,
        review=report.shown(config.review) if config.review and FileSystems.exists(config.review) else None,
        report=config.report, run_id=run_id, counters=_plus(metrics.counters(result), checked),
        elapsed=time.monotonic() - started, enrichers=config.selector.enrichers, started_at=started_at,
        duplicate_keys=metrics.duplicate_keys(result), input=config.input)
    if config.selector.naming is not None:
        summary.records_named_by = config.selector.naming.describe()
        summary.naming_warning = config.selector.naming.warning()
    _check_titles_and_pins(config, result, summary)
    _identities(result, summary)
    if replaces and not new_backups and not summary.unchanged:
        # The sink writes no backup identical to the newest one: the version it replaced is that file.
        summary.backup, summary.backup_reused = report.shown(max(before)), True
    summary.exit_status = exit_status_for(summary.movies_failed, summary.movies_attempted, config.max_failures)
    if summary.report:
        try:
            report.write_report(summary.report, summary)
        except Exception as error:  # pylint: disable=broad-except
            _LOGGER.warning("Could not write the report %s: %s", summary.report, error)
            summary.report = None
    if status is not None:
        status.update(report=summary.report)
    return summary


def _check_titles_and_pins(config: RunConfig, result, summary: report.RunSummary) -> None:
    """Counts the `--titles` entries and the `--pins` keys that match no movie, and names them in one warning.
    Every pinned key is read, also from a database; the titles only where the run sees every record."""
    titles_text = pins_text = None
    if dry_run.titles_checked(config):
        found = metrics.string_set(result, selection.TITLES_FOUND_METRIC)
        summary.titles_unmatched = len(selection.unmatched(config.selector.titles, found))
        titles_text = selection.unknown_titles_warning(config.selector.titles, found)
    if config.selector.pins:
        found = metrics.string_set(result, selection.PINS_FOUND_METRIC)
        summary.pins_unmatched = len(selection.unmatched(config.selector.pins, found))
        pins_text = selection.unknown_pins_text(config.selector.pins, found)
    summary.titles_warning = selection.unmatched_warning(titles_text, pins_text)


def _identities(result, summary: report.RunSummary) -> None:
    """The report's `reidentified`, `removed` and `shared_matches`, from the lookup's and the shared matches'
    string-set metrics, in key order."""
    moved = (value.rsplit("\t", 2) for value in metrics.string_set(result, lookup.REIDENTIFIED_METRIC))
    summary.reidentified = [{"key": key, "from": int(old), "to": int(new)} for key, old, new in sorted(moved)]
    summary.removed = sorted(metrics.string_set(result, lookup.REMOVED_METRIC))
    summary.shared_matches = shared.parse_metric(metrics.string_set(result, shared.SHARED_METRIC))


def _check_key_once(config: RunConfig, options: PipelineOptions) -> tuple[RunConfig, int]:
    """Where several worker processes would read the HTTP cache, TMDB is asked once, here, whether it takes the
    key (each process would ask on its own otherwise); returns the config telling them, and the requests made.
    In one process the client asks before its first cached answer, and not at all when the run asks nothing."""
    settings = config.settings
    if not settings.cache_path or settings.key_checked or runners.process_count(options) <= 1:
        return config, 0
    with TmdbClient(settings) as client:
        try:
            client.check_key()
        except TmdbError as error:
            raise FatalError(str(error)) from None
        made = client.stats.requests
    return dataclasses.replace(config, settings=dataclasses.replace(settings, key_checked=True)), made


def _plus(counters: dict[str, int], requests: int) -> dict[str, int]:
    if requests:
        counters = {**counters, "requests": counters.get("requests", 0) + requests}
    return counters


def _run_pipeline(config: RunConfig, options: PipelineOptions, display: TextIO | None, quiet_stderr: bool,
                  status: progress.StatusFile | None):
    """Builds the graph, runs it to the end with live progress, and returns Beam's result."""
    with tempfile.TemporaryDirectory(prefix="movie-enrich-progress-") as spill_dir, \
            process.stderr_aside(quiet_stderr) as real_stderr:
        # Worker processes (multi_processing, or a runner's local workers) inherit these and spill counts there.
        os.environ[progress.ENV_DIR] = spill_dir
        os.environ[progress.ENV_DIR + "_PID"] = str(os.getpid())
        try:
            live = metrics.LiveProgress(spill_dir)
            with report.ProgressDisplay(config.progress, config.progress_interval, display or real_stderr, live,
                                        status):
                pipeline = beam.Pipeline(runner=runners.runner_for(options), options=options)
                build_pipeline(pipeline, config)
                result = pipeline.run()
                live.follow(result)  # where the local tracker sees nothing, Beam's metrics show the progress
                result.wait_until_finish()
                live.follow(result)
        except FatalError:
            raise
        except Exception as error:  # pylint: disable=broad-except
            fatal = from_pipeline_error(error, config.settings.api_key)
            if _bad_input(error):
                raise InputRefused(str(fatal), fatal.status) from None
            raise fatal from None
        finally:
            if not stores.is_store_url(config.output):
                # The run is over, so no write step can be retried: what a failed one kept goes too.
                sink.remove_spool(sink.spool_dir_for(config.output))
            if config.review:
                sink.remove_spool(review.spool_dir_for(config.review))  # the review lines' spool, alike
            os.environ.pop(progress.ENV_DIR, None)
            os.environ.pop(progress.ENV_DIR + "_PID", None)
    return result


def _bad_input(error: BaseException) -> bool:
    """Whether the pipeline stopped on a bad database file (`database.DatabaseError`), found in the error's chain
    or, from a worker in another process, in its text."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, database.DatabaseError):
            return True
        seen = seen.__cause__ or seen.__context__
    return f"{database.DatabaseError.__name__}: " in str(error)


def _backups(config: RunConfig) -> set[str]:
    if stores.is_store_url(config.output):
        return set()  # a database keeps its runs' previous rows in its history table
    return set(sink.list_backups(config.backup_dir, config.output))
