"""The command line: parse and check the options, take the lock, run the pipeline, report, clean up."""

import argparse
import contextlib
import dataclasses
import io
import logging
import os
import sys
import time
from typing import Any, Sequence

import apache_beam as beam
import filelock
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions, WorkerOptions

from movie_enrichment.io import database, sink
from movie_enrichment.io.checkpoints import CheckpointStore
from movie_enrichment.io.tmdb import TmdbAuthError, TmdbSettings, redact
from movie_enrichment.pipelines import options as opts
from movie_enrichment.pipelines.enrich_pipeline import RunConfig, build_pipeline, stale_before
from movie_enrichment.transforms.enrich import NAMESPACE
from movie_enrichment.transforms.selection import Selector, read_titles

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


def parse_options(argv: Sequence[str]) -> tuple[PipelineOptions, opts.EnrichmentOptions]:
    """Parses argv strictly: Beam only warns about unknown or malformed options, and we refuse them."""
    parser = _Parser(prog="movie-enrich", add_help=False, allow_abbrev=False)
    for cls in [opts.EnrichmentOptions] + [c for c in _all_option_classes() if c is not opts.EnrichmentOptions]:
        try:
            cls._add_argparse_args(parser)  # pylint: disable=protected-access
        except argparse.ArgumentError:
            pass  # an option declared twice by Beam's own classes
    _, unknown = parser.parse_known_args(list(argv))
    if unknown:
        raise FatalError(f"unknown option: {unknown[0]} (see --help)", EXIT_USAGE)
    public = [a for a in argv]
    options = PipelineOptions(public)
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


def resolve(argv: Sequence[str]) -> tuple[PipelineOptions, opts.EnrichmentOptions, RunConfig]:
    options, o = parse_options(argv)
    if not o.input:
        raise FatalError("missing --input: the movie database to enrich", EXIT_USAGE)
    key = opts.api_key(o)
    if not key:
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
    processes = _process_count(options)
    settings = TmdbSettings(
        api_key=key, base_url=o.tmdb_base_url.rstrip("/"),
        max_requests_per_second=(o.max_requests_per_second / processes) if o.max_requests_per_second else 0.0,
        max_concurrency=o.max_concurrency, timeout=o.http_timeout, retries=max(0, o.http_retries),
        language=o.language)
    config = RunConfig(
        input=o.input, output=output,
        backup_dir=o.backup_dir or sink.default_backup_dir(output),
        failures=o.failures or sink.beside(output, ".failures.jsonl"),
        checkpoint_dir=o.checkpoint_dir or sink.beside(output, ".checkpoints"),
        settings=settings,
        selector=Selector(enrichers=o.enrich, mode=o.reprocess, stale_before=stale_before(o.stale_after),
                          titles=titles),
        batch_size=o.batch_size, poster_size=o.poster_size, backdrop_size=o.backdrop_size,
        keep_backups=o.keep_backups)
    return options, o, config


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


def _newest_backup(config: RunConfig, before: set[str]) -> str | None:
    if not FileSystems.exists(config.backup_dir):
        return None
    stem = FileSystems.split(config.output)[1].rpartition(".")[0] or FileSystems.split(config.output)[1]
    found = FileSystems.match([FileSystems.join(config.backup_dir, f"{stem}.*Z*")])[0].metadata_list
    new = sorted(m.path for m in found if m.path not in before)
    return new[-1] if new else None


def _backups(config: RunConfig) -> set[str]:
    if not FileSystems.exists(config.backup_dir):
        return set()
    stem = FileSystems.split(config.output)[1].rpartition(".")[0] or FileSystems.split(config.output)[1]
    return {m.path for m in FileSystems.match([FileSystems.join(config.backup_dir, f"{stem}.*Z*")])[0].metadata_list}


@dataclasses.dataclass
class RunSummary:
    output: str
    backup: str | None
    failures: str | None
    counters: dict[str, int]
    elapsed: float
    enrichers: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def table(self) -> str:
        c = self.counters
        lines = [f"{'enricher':<10} {'ok':>7} {'not_found':>10} {'ambiguous':>10} {'failed':>7} {'invalid':>8}"]
        for enricher in self.enrichers:
            lines.append(f"{enricher:<10} " + " ".join(
                f"{c.get(f'{enricher}_{s}', 0):>{w}}" for s, w in
                (("ok", 7), ("not_found", 10), ("ambiguous", 10), ("failed", 7), ("invalid", 8))))
        looked_up = sum(c.get(f"lookup_{s}", 0) for s in ("ok", "not_found", "ambiguous", "failed", "invalid"))
        requests = c.get("requests", 0)
        lines.append(f"requests {requests} ({requests / looked_up:.2f} per movie looked up), "
                     f"retries {c.get('retries', 0)}, 429s {c.get('throttled', 0)}, "
                     f"resumed from checkpoints {c.get('resumed', 0)}" if looked_up else
                     f"requests {requests}, retries {c.get('retries', 0)}, 429s {c.get('throttled', 0)}")
        rate = requests / self.elapsed if self.elapsed else 0.0
        lines.append(f"elapsed {self.elapsed:.1f} s, {rate:.1f} requests/s")
        lines.append(f"output   {self.output}")
        lines.append(f"backup   {self.backup or '(none: there was no previous output)'}")
        if self.failures:
            lines.append(f"failures {self.failures}")
        return "\n".join(lines)


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


def run(argv: Sequence[str] | None = None) -> RunSummary:
    """Runs one enrichment and returns its summary. Raises FatalError for anything that stops it."""
    argv = list(sys.argv[1:] if argv is None else argv)
    _, o, config = resolve(argv)
    with _one_run_at_a_time(config.output):
        return _run_locked(argv, o, config)


def _run_locked(argv: list[str], o: opts.EnrichmentOptions, config: RunConfig) -> RunSummary:
    level = logging.getLevelName(o.log_level.upper())
    if not isinstance(level, int):
        raise FatalError(f"bad option: --log_level {o.log_level!r} is not a logging level", EXIT_USAGE)
    logging.getLogger().setLevel(level)
    if level > logging.INFO:
        # Beam logs a failing DoFn's traceback several times over; the launcher reports it in one line.
        logging.getLogger("apache_beam").setLevel(logging.CRITICAL)
    _check_paths(config)
    _check_input(config.input)
    started = time.monotonic()
    before = _backups(config)
    options = _pipeline_options(argv)
    quiet = level > logging.INFO
    real_stderr = sys.stderr
    try:
        if quiet:
            # Beam's SDK worker prints a failing bundle's traceback straight to stderr; the launcher says it
            # once, in one line, below.
            sys.stderr = io.StringIO()
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
        raise FatalError(f"the pipeline failed: {redact(str(error).splitlines()[0], config.settings.api_key)}"
                         " (rerun with --log_level INFO for details)") from None
    finally:
        sys.stderr = real_stderr
    # The database is written: only now may the checkpoints go.
    if config.checkpoint_dir:
        CheckpointStore(config.checkpoint_dir).clear()
    failures = config.failures if FileSystems.exists(config.failures) else None
    return RunSummary(output=config.output, backup=_newest_backup(config, before), failures=failures,
                      counters=_counters(result), elapsed=time.monotonic() - started,
                      enrichers=config.selector.enrichers)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        force=True)
    try:
        summary = run(argv)
    except FatalError as error:
        print(f"movie-enrich: error: {error}", file=sys.stderr)
        return error.status
    except database.DatabaseError as error:
        print(f"movie-enrich: error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("movie-enrich: interrupted; finished batches are kept in the checkpoints", file=sys.stderr)
        return 130
    print(summary.table())
    return EXIT_OK
