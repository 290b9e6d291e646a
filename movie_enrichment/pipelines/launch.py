"""The command line: parse and check the options, take the lock, run the pipeline, report, clean up."""

import argparse
import contextlib
import logging
import os
import re
import sys
import tempfile
import time
from typing import Sequence, TextIO

import apache_beam as beam
import filelock
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions, WorkerOptions

from movie_enrichment.io import database, progress, sink
from movie_enrichment.io.checkpoints import CheckpointStore
from movie_enrichment.io.tmdb import TmdbAuthError, TmdbClient, TmdbSettings, redact
from movie_enrichment.pipelines import changes, dry_run, report
from movie_enrichment.pipelines import options as opts
from movie_enrichment.pipelines.enrich_pipeline import RunConfig, build_pipeline, stale_before
from movie_enrichment.transforms import fields
from movie_enrichment.transforms.enrich import NAMESPACE
from movie_enrichment.transforms.selection import REFRESH_MODES, Selector, read_titles

_LOGGER = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 3
DEFAULT_WORKERS = 4
_SECRET_OPTIONS = ("--tmdb_api_key",)


class FatalError(Exception):
    """Ends the run with one line on standard error and the given exit status."""

    def __init__(self, message: str, status: int = EXIT_FAILED):
        super().__init__(message)
        self.status = status


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise FatalError(f"bad option: {message}", EXIT_USAGE)


def _all_option_classes():
    seen, todo = [], [PipelineOptions]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.append(sub)
                todo.append(sub)
    return seen


def _parser(include_ours: bool = True) -> argparse.ArgumentParser:
    """One parser with every option class Beam knows of (ours first), as PipelineOptions builds it."""
    parser = _Parser(prog="movie-enrich", add_help=False, allow_abbrev=False)
    classes = [c for c in _all_option_classes() if c is not opts.EnrichmentOptions]
    for cls in ([opts.EnrichmentOptions] if include_ours else []) + classes:
        try:
            cls._add_argparse_args(parser)  # pylint: disable=protected-access
        except argparse.ArgumentError:
            pass  # an option declared twice by Beam's own classes
    return parser


def parse_options(argv: Sequence[str]) -> tuple[PipelineOptions, opts.EnrichmentOptions]:
    """Parses argv strictly: Beam only warns about unknown or malformed options, and we refuse them."""
    _, unknown = _parser().parse_known_args(list(argv))
    if unknown:
        raise FatalError(f"unknown option: {unknown[0]} (see --help)", EXIT_USAGE)
    options = PipelineOptions(list(argv))
    return options, options.view_as(opts.EnrichmentOptions)


def _without_secrets(argv: Sequence[str]) -> list[str]:
    """Beam may log or ship its options; the key travels only inside our picklable settings."""
    clean, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in _SECRET_OPTIONS:
            skip = True
            continue
        if any(arg.startswith(s + "=") for s in _SECRET_OPTIONS):
            continue
        clean.append(arg)
    return clean


def _process_count(options: PipelineOptions) -> int:
    """How many processes share the request rate, so that each takes its part of it."""
    direct = options.view_as(DirectOptions)
    if _uses_local_engine(options):
        return max(1, direct.direct_num_workers or 1) if direct.direct_running_mode == "multi_processing" else 1
    workers = options.view_as(WorkerOptions)
    return max(1, workers.max_num_workers or workers.num_workers or 1)


def _uses_local_engine(options: PipelineOptions) -> bool:
    runner = options.view_as(StandardOptions).runner
    return runner is None or runner in ("DirectRunner", "FnApiRunner", "SwitchingDirectRunner")


def resolve(argv: Sequence[str]) -> tuple[PipelineOptions, opts.EnrichmentOptions, RunConfig, bool]:
    """Parses and checks the options; returns them with the run's config and whether this is a dry run."""
    dry_run_flag = opts.DRY_RUN_FLAG in argv
    argv = [a for a in argv if a != opts.DRY_RUN_FLAG]
    options, o = parse_options(argv)
    if not o.input:
        raise FatalError("missing --input: the movie database to enrich", EXIT_USAGE)
    key = opts.api_key(o)
    if not key and not dry_run_flag:
        raise FatalError("no TMDB API key: set TMDB_API_KEY or pass --tmdb_api_key "
                         "(a key is free at themoviedb.org, under Settings > API)", EXIT_USAGE)
    if o.reprocess == "stale" and o.stale_after is None:
        raise FatalError("--reprocess stale needs --stale_after DAYS", EXIT_USAGE)
    output = o.output or o.input
    titles = None
    if o.titles:
        try:
            with FileSystems.open(o.titles) as handle:
                titles = read_titles(handle.read().decode("utf-8").splitlines())
        except (OSError, UnicodeDecodeError) as error:
            raise FatalError(f"cannot read --titles {o.titles}: {error}", EXIT_USAGE) from None
    try:
        field_overrides = tuple(fields.parse_field_option(o.field or ()).items())
    except fields.FieldError as error:
        raise FatalError(str(error), EXIT_USAGE) from None
    processes = _process_count(options)
    settings = TmdbSettings(
        api_key=key or "", base_url=o.tmdb_base_url.rstrip("/"),
        max_requests_per_second=(o.max_requests_per_second / processes) if o.max_requests_per_second else 0.0,
        max_concurrency=o.max_concurrency, timeout=o.http_timeout, retries=max(0, o.http_retries),
        language=o.language,
        cache_path=None if o.no_http_cache else (o.http_cache or opts.default_http_cache()),
        cache_days=o.http_cache_days, cache_max_bytes=int(o.http_cache_max_mb * 1024 * 1024),
        refresh=o.reprocess in REFRESH_MODES)
    config = RunConfig(
        input=o.input, output=output,
        backup_dir=o.backup_dir or sink.default_backup_dir(output),
        failures=o.failures or sink.beside(output, ".failures.jsonl"),
        checkpoint_dir=o.checkpoint_dir or sink.beside(output, ".checkpoints"),
        settings=settings,
        selector=Selector(enrichers=o.enrich, mode=o.reprocess, stale_before=stale_before(o.stale_after),
                          titles=titles),
        batch_size=o.batch_size, poster_size=o.poster_size, backdrop_size=o.backdrop_size,
        keep_backups=o.keep_backups, field_overrides=field_overrides)
    return options, o, config, dry_run_flag


def _pipeline_options(argv: Sequence[str]) -> PipelineOptions:
    options = PipelineOptions(_without_secrets(argv))
    direct = options.view_as(DirectOptions)
    if _uses_local_engine(options):
        # The fast local path: the in-process engine with parallel worker threads.
        if "--direct_num_workers" not in " ".join(argv):
            direct.direct_num_workers = DEFAULT_WORKERS
        if "--direct_running_mode" not in " ".join(argv):
            direct.direct_running_mode = "multi_threading"
    return options


def _runner(options: PipelineOptions):
    if options.view_as(StandardOptions).runner is None:
        # Beam's DirectRunner first tries to download the Prism binary from the internet; its in-process
        # engine, the FnApiRunner, is what it falls back to, so we use that directly.
        from apache_beam.runners.portability.fn_api_runner import FnApiRunner
        return FnApiRunner()
    return None


def _check_paths(config: RunConfig) -> None:
    """Fails before any work when the output cannot be written at all."""
    directory = FileSystems.split(config.output)[0]
    if directory and not FileSystems.exists(directory):
        raise FatalError(f"output folder does not exist: {directory}")
    if directory and sink.is_local(config.output):
        if not os.access(directory, os.W_OK):
            raise FatalError(f"output folder is not writable: {directory}")
        if os.path.isdir(config.output):
            raise FatalError(f"output is a directory, not a file: {config.output}")


def _check_input(path: str) -> None:
    """Cheap checks that need no read (the pipeline reads the file once): it exists, is a file, is not empty."""
    if sink.is_local(path):
        if os.path.isdir(path):
            raise FatalError(f"input is a directory, not a file: {path}")
        if not os.path.exists(path):
            raise FatalError(f"input file not found: {path}")
        if not os.access(path, os.R_OK):
            raise FatalError(f"input file is not readable (permission denied): {path}")
        if os.path.getsize(path) == 0:
            raise FatalError(f"input is empty: {path}")
    elif not FileSystems.exists(path):
        raise FatalError(f"input file not found: {path}")


def _root_error(error: BaseException) -> FatalError | None:
    """Finds our own fatal errors inside the exception a runner raises, which may only carry their text."""
    seen = error
    while seen is not None:
        if isinstance(seen, (database.DatabaseError, TmdbAuthError, sink.SinkError)):
            return FatalError(str(seen))
        seen = seen.__cause__ or seen.__context__
    text = str(error)
    for name in ("DatabaseError", "TmdbAuthError", "SinkError"):
        marker = f"{name}: "
        if marker in text:
            line = text[text.rindex(marker) + len(marker):].splitlines()[0]
            return FatalError(line.split(" [while running")[0])
    return None


def _innermost_message(error: BaseException) -> str:
    """The deepest `SomeError: message` line of a runner's error, which often carries a whole traceback."""
    lines = [line.strip() for line in str(error).splitlines()]
    found = [line for line in lines if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b:?", line)]
    message = found[-1] if found else next((line for line in lines if line), repr(error))
    return message.split(" [while running")[0]


def _counters(result) -> dict[str, int]:
    try:
        query = result.metrics().query(beam.metrics.MetricsFilter().with_namespace(NAMESPACE))
    except Exception:  # pylint: disable=broad-except
        return {}
    totals: dict[str, int] = {}
    for counter in query["counters"]:
        value = counter.committed if counter.committed is not None else counter.attempted
        totals[counter.key.metric.name] = totals.get(counter.key.metric.name, 0) + (value or 0)
    return totals


def _backups(config: RunConfig) -> set[str]:
    return set(sink.list_backups(config.backup_dir, config.output))


@contextlib.contextmanager
def _one_run_at_a_time(output: str):
    """Holds an OS lock beside a local output for the whole run.

    filelock's flock-based lock is released by the kernel when its process dies, so a lock left by a killed
    run is simply taken over, never obeyed forever.
    """
    if not sink.is_local(output):
        _LOGGER.warning("Cannot lock %s (not a local path): make sure no other run writes it", output)
        yield
        return
    lock = filelock.FileLock(os.path.abspath(output) + ".lock", timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise FatalError(f"another run is already enriching {output} (lock {lock.lock_file} is held); "
                         "wait for it to finish", EXIT_BUSY) from None
    try:
        yield
    finally:
        lock.release()


@contextlib.contextmanager
def _quiet_stderr(quiet: bool):
    """Sends what Beam writes to stderr (a failing bundle's traceback, worker processes' logs) to a scratch
    file, and yields a stream on the real stderr for the progress display. The launcher reports errors itself,
    in one line.
    """
    if not quiet:
        yield sys.stderr
        return
    sys.stderr.flush()
    saved = os.dup(2)
    display = open(os.dup(saved), "w", buffering=1, encoding="utf-8", errors="replace")  # noqa: SIM115
    with tempfile.TemporaryFile() as scratch:
        os.dup2(scratch.fileno(), 2)
        try:
            yield display
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            display.close()


class _RedactSecret(logging.Filter):
    """Removes the key from every log line that reaches a handler (urllib3 logs request URLs at DEBUG)."""

    def __init__(self, secret: str):
        super().__init__()
        self._secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message, self._secret)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def _redact_logs(secret: str) -> None:
    for handler in logging.getLogger().handlers:
        handler.addFilter(_RedactSecret(secret))


def _log_level(name: str) -> int:
    level = logging.getLevelName(name.upper())
    if not isinstance(level, int):
        raise FatalError(f"bad option: --log_level {name!r} is not a logging level", EXIT_USAGE)
    return level


def _set_log_level(name: str) -> int:
    level = _log_level(name)
    logging.getLogger().setLevel(level)
    if level > logging.INFO:
        # Beam logs a failing DoFn's traceback several times over; the launcher reports it in one line.
        logging.getLogger("apache_beam").setLevel(logging.CRITICAL)
    return level


def check(argv: Sequence[str]) -> tuple[opts.EnrichmentOptions, RunConfig, bool]:
    """Everything the command checks before it starts work (the options, the input file, the output folder),
    with no side effect: the launch API calls it in its own process before it starts a run.

    Raises FatalError with the one line the command prints. Returns the options, the run's config and
    whether this is a dry run.
    """
    _, o, config, is_dry_run = resolve(argv)
    _log_level(o.log_level)
    if not is_dry_run:
        if not o.watch:
            _check_input(config.input)
        _check_paths(config)
    return o, config, is_dry_run


def run(argv: Sequence[str] | None = None, stdout: TextIO | None = None) -> report.RunSummary | None:
    """Runs one enrichment (or a dry run, or the watch loop). Raises FatalError for anything that stops it."""
    argv = list(sys.argv[1:] if argv is None else argv)
    stdout = stdout or sys.stdout
    o, config, is_dry_run = check(argv)
    _redact_logs(config.settings.api_key)
    if config.selector.mode == "changed":
        config = _with_changed_ids(config)
    argv = [a for a in argv if a != opts.DRY_RUN_FLAG]
    level = _set_log_level(o.log_level)
    if is_dry_run:
        dry_run.describe(config, o.max_requests_per_second, stdout)
        return None
    if o.watch:
        from movie_enrichment.pipelines import watch
        with _one_run_at_a_time(config.output):
            try:
                watch.watch(o.watch, o.watch_interval, lambda c: _run_locked(argv, o, c, level), config, stdout)
            except FileNotFoundError as error:
                raise FatalError(str(error), EXIT_USAGE) from None
        return None
    run_id = os.environ.get(report.RUN_ID_ENV) or report.new_run_id()
    with _one_run_at_a_time(config.output), report.progress_file(
            progress_file_path(o.progress_file, config.output), config.settings.api_key, run_id=run_id,
            input=config.input, output=config.output, report=report_path(o.report, config.output)) as status:
        return _run_locked(argv, o, config, level, run_id, status)


def _with_changed_ids(config: RunConfig) -> RunConfig:
    if not config.settings.api_key:
        raise FatalError("--reprocess changed asks TMDB which movies changed: it needs the API key, even with "
                         "--dry_run", EXIT_USAGE)
    _check_input(config.input)
    try:
        return changes.with_changed_ids(config)
    except changes.ChangesError as error:
        raise FatalError(redact(str(error), config.settings.api_key)) from None


def report_path(given: str | None, output: str) -> str:
    """`--report`, or `<output>.report.json`."""
    return given or sink.beside(output, ".report.json")


def progress_file_path(given: str | None, output: str) -> str | None:
    """`--progress_file`, or `<output>.progress.json` beside a local output."""
    return given or (sink.beside(output, ".progress.json") if sink.is_local(output) else None)


def _run_locked(argv: list[str], o: opts.EnrichmentOptions, config: RunConfig, level: int,
                run_id: str | None = None, status: progress.StatusFile | None = None) -> report.RunSummary:
    started, started_at = time.monotonic(), report.now_iso()
    before = _backups(config)
    options = _pipeline_options(argv)
    progress.TRACKER.reset()
    if config.settings.cache_path:
        # Created here, once, so that worker processes never race to create the same SQLite file; expired
        # entries, then the oldest beyond the size cap, go first.
        TmdbClient(config.settings).open_cache().prune()
    with tempfile.TemporaryDirectory(prefix="movie-enrich-progress-") as spill_dir, \
            _quiet_stderr(level > logging.INFO) as display_stream:
        # Worker processes (multi_processing, or a runner's local workers) inherit these and spill counts there.
        os.environ[progress.ENV_DIR] = spill_dir
        os.environ[progress.ENV_DIR + "_PID"] = str(os.getpid())
        try:
            with report.ProgressDisplay(o.progress, o.progress_interval, display_stream, spill_dir, status):
                pipeline = beam.Pipeline(runner=_runner(options), options=options)
                build_pipeline(pipeline, config)
                result = pipeline.run()
                result.wait_until_finish()
        except FatalError:
            raise
        except Exception as error:  # pylint: disable=broad-except
            fatal = _root_error(error)
            if fatal:
                raise fatal from None
            reason = redact(_innermost_message(error), config.settings.api_key)
            raise FatalError(f"the pipeline failed: {reason} (rerun with --log_level INFO for details)") from None
        finally:
            database.forget_parsed()
            os.environ.pop(progress.ENV_DIR, None)
            os.environ.pop(progress.ENV_DIR + "_PID", None)
    # The database is written: only now may the checkpoints go.
    if config.checkpoint_dir:
        CheckpointStore(config.checkpoint_dir).clear()
    new_backups = sorted(_backups(config) - before)
    summary = report.RunSummary(
        output=config.output, backup=new_backups[-1] if new_backups else None,
        failures=config.failures if FileSystems.exists(config.failures) else None,
        report=report_path(o.report, config.output), run_id=run_id,
        counters=_counters(result), elapsed=time.monotonic() - started, enrichers=config.selector.enrichers,
        started_at=started_at)
    try:
        report.write_report(summary.report, summary)
    except Exception as error:  # pylint: disable=broad-except
        _LOGGER.warning("Could not write the report %s: %s", summary.report, error)
        summary.report = None
    if status is not None:
        status.update(report=summary.report)
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        force=True)
    argv = list(sys.argv[1:] if argv is None else argv)
    if "-h" in argv or "--help" in argv:
        print_help(sys.stdout)
        return EXIT_OK
    if "--help_beam" in argv:
        _parser(include_ours=False).print_help(sys.stdout)
        return EXIT_OK
    try:
        summary = run(argv)
    except (FatalError, database.DatabaseError, sink.SinkError) as error:
        logging.disable(logging.CRITICAL)  # threads of a failed run may still be winding down: one line only
        print(f"movie-enrich: error: {error}", file=sys.stderr)
        sys.stderr.flush()
        logging.disable(logging.NOTSET)
        return getattr(error, "status", EXIT_FAILED)
    except KeyboardInterrupt:
        print("movie-enrich: interrupted; finished batches are kept in the checkpoints", file=sys.stderr)
        return 130
    if summary is not None:
        print(summary.table())
    return EXIT_OK


def print_help(stream: TextIO) -> None:
    """This project's options first, in groups; then Beam's, which work too."""
    ours = argparse.ArgumentParser(
        prog="movie-enrich", add_help=False,
        description="Enrich a movie database (one JSON file) with TMDB metadata and images, as an Apache Beam "
        "pipeline: the file is read once and written once, with a backup, and finished batches are "
        "checkpointed so a rerun resumes.",
        epilog="Every Apache Beam pipeline option works too (--runner, --direct_num_workers, "
        "--direct_running_mode, ...): run with --help_beam to list them. Exit status: 0 done (even if some "
        "movies were not found), 1 failed, 2 bad option, 3 another run holds the output.")
    opts.EnrichmentOptions._add_argparse_args(ours)  # pylint: disable=protected-access
    ours.add_argument(opts.DRY_RUN_FLAG, action="store_true", help=opts.DRY_RUN_HELP)
    ours.add_argument("--help_beam", action="store_true", help="list Apache Beam's own pipeline options")
    ours.print_help(stream)
