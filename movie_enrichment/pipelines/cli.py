"""The `movie-enrich` command: argv in, --help in groups, a run, its table on stdout, an exit status out."""

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
from typing import Callable, Sequence, TextIO

from movie_enrichment.io import database, files, sink, stop, stores
from movie_enrichment.pipelines import config as run_config
from movie_enrichment.pipelines import dry_run, launch, process
from movie_enrichment.pipelines import options as opts
from movie_enrichment.pipelines.errors import (
    EXIT_ALL_FAILED,
    EXIT_BUSY,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_STATUSES,
    EXIT_USAGE,
    FatalError,
)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command and returns its exit status (errors.EXIT_STATUSES)."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        force=True)
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("convert", "restore"):
        return _store_command(argv[0], argv[1:])
    if "-h" in argv or "--help" in argv:
        print_help(sys.stdout)
        return EXIT_OK
    if "--help_beam" in argv:
        run_config.parser(include_ours=False).print_help(sys.stdout)
        return EXIT_OK
    resolved: list = []
    saying, said = threading.RLock(), []

    def say_interrupted() -> None:
        """The one line of an interrupted run, said once: by the main thread as the run winds down, or by the
        grace timer when the run did not wind down in time (the process ends right after; the run may still
        have standard error set aside)."""
        with saying:
            if not said:
                said.append(True)
                process.say(f"movie-enrich: interrupted; {_kept(resolved[0] if resolved else None)}; "
                            "rerun the same command to resume")

    try:
        with _terminate_as_interrupt(say_interrupted):
            return _command(argv, sys.stdout, resolved)
    except (FatalError, database.DatabaseError, sink.SinkError, stores.StoreError) as error:
        logging.disable(logging.CRITICAL)  # threads of a failed run may still be winding down: one line only
        process.say(f"movie-enrich: error: {error}")
        logging.disable(logging.NOTSET)
        return getattr(error, "status", EXIT_FAILED)
    except KeyboardInterrupt:
        say_interrupted()
        return EXIT_INTERRUPTED
    finally:
        process.speak_again()


# After SIGTERM (or Ctrl-C) a run has this long to wind down before the process ends regardless: systemd and
# Docker send SIGKILL after 10 s by default, and everything a run writes is atomic, so an abandoned lookup
# only costs its batch being redone.
GRACE_SECONDS = 8.0


@contextlib.contextmanager
def _terminate_as_interrupt(say_interrupted: Callable[[], None]):
    """SIGTERM (systemd, Docker, `timeout`, `kill`) ends a run as Ctrl-C does: KeyboardInterrupt in the main
    thread, so the finished batches stay checkpointed and the database is untouched. The signal also asks every
    thread to stop (`io.stop`): lookups not started are dropped and the rate limiter's waits end, so that Beam's
    engine, which waits for its bundles before it lets the main thread go, winds down within a few seconds. The
    grace timer is the last resort: after GRACE_SECONDS, or at a second signal, the process says what was kept
    and exits with 130 at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    stopping = threading.Event()

    def give_up() -> None:
        say_interrupted()
        os._exit(EXIT_INTERRUPTED)

    def interrupt(*_):
        if stopping.is_set():
            give_up()
        stopping.set()
        stop.request()
        timer = threading.Timer(GRACE_SECONDS, give_up)
        timer.daemon = True
        timer.start()
        raise KeyboardInterrupt

    if previous[signal.SIGINT] is signal.default_int_handler:  # not when the caller chose otherwise
        signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    stop.clear()
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _kept(config: run_config.RunConfig | None) -> str:
    """What an interrupted run leaves behind, in words."""
    if config is None:
        return "nothing was written"
    if not config.checkpoint_dir:
        return "each finished batch is already saved in the database"
    folder = os.path.abspath(config.checkpoint_dir) if files.is_local(config.checkpoint_dir) \
        else config.checkpoint_dir
    try:
        from movie_enrichment.io.checkpoints import CheckpointStore
        batches = len(CheckpointStore(config.checkpoint_dir).paths())
    except Exception:  # pylint: disable=broad-except
        return f"finished batches are kept in {folder}"
    return f"{batches} finished batch{'' if batches == 1 else 'es'} kept in {folder}"


def _command(argv: list[str], stdout: TextIO, resolved: list | None = None) -> int:
    options, config = run_config.resolve(argv)
    if resolved is not None:
        resolved.append(config)
    process.redact_logs(config.settings.api_key)
    config = run_config.with_naming(run_config.with_changed_ids(config))
    quiet = process.set_log_level(config.log_level) > logging.INFO
    if config.dry_run:
        dry_run.describe(config, stdout)
        return EXIT_OK
    if config.watch:
        launch.watch(config, options, stdout, quiet_stderr=quiet)
        return EXIT_OK
    summary = launch.run(config, options, quiet_stderr=quiet)
    print(summary.table(), file=stdout)
    for warning in (summary.duplicates_warning(), summary.naming_warning, summary.titles_warning,
                    summary.images_cap_warning()):
        if warning:
            print(f"movie-enrich: {warning}", file=sys.stderr)
    if summary.exit_status != EXIT_OK:
        what = "every lookup failed" if summary.exit_status == EXIT_ALL_FAILED else \
            f"more movies failed than --max_failures {config.max_failures} allows"
        print(f"movie-enrich: {summary.movies_failed} of {summary.movies_attempted} movies failed ({what}; "
              f"exit status {summary.exit_status}): see {summary.failures or 'the report'}; a rerun with "
              "--reprocess failed retries them", file=sys.stderr)
    return summary.exit_status


def _store_command(name: str, argv: list[str]) -> int:
    """`movie-enrich convert ...` and `movie-enrich restore ...` (see store_commands)."""
    from movie_enrichment.pipelines import store_commands
    try:
        getattr(store_commands, name)(argv, sys.stdout)
    except (stores.StoreError, database.DatabaseError) as error:
        print(f"movie-enrich {name}: error: {error}", file=sys.stderr)
        if isinstance(error, stores.StoreBusy):
            return EXIT_BUSY
        return EXIT_USAGE if str(error).startswith("bad option") else EXIT_FAILED
    return EXIT_OK


COMMANDS = """
commands (movie-enrich COMMAND --help lists its options):
  movie-enrich serve --input DB [--port N]                     the admin console: launch, watch, review, pin
  movie-enrich convert --input A --output B                    copy a database: JSON file, sqlite:///x.db, postgresql://
  movie-enrich restore --input DB --run ID | --list            put a database back as it was before a run
"""

EXAMPLES = """
examples:
  movie-enrich --input movies.json --dry_run                   what a run would do; nothing requested or written
  movie-enrich --input movies.json                             enrich what is missing (TMDB_API_KEY set)
  movie-enrich --input movies.json --reprocess failed          retry the movies that failed last time
  movie-enrich --input movies.json --max_failures 5%           on a schedule: exit 4 only past 5% failures
  movie-enrich --input sqlite:///movies.db --enrich metadata   a SQLite table, metadata only
"""


def print_help(stream: TextIO) -> None:
    """This project's options first, in groups; then Beam's, which work too."""
    ours = argparse.ArgumentParser(
        prog="movie-enrich", add_help=False,
        description="Enrich a movie database (one JSON file, or a SQLite or PostgreSQL table) with TMDB "
        "metadata and images, as an Apache Beam "
        "pipeline: the file is read once and written once, with a backup, and finished batches are "
        "checkpointed so a rerun resumes.",
        epilog="Every Apache Beam pipeline option works too (--runner, --direct_num_workers, "
        "--direct_running_mode, ...): run with --help_beam to list them. Exit status: "
        + "; ".join(f"{code} {meaning}" for code, meaning in EXIT_STATUSES) + ".")
    opts.EnrichmentOptions._add_argparse_args(ours)  # pylint: disable=protected-access
    ours.add_argument(opts.DRY_RUN_FLAG, action="store_true", help=opts.DRY_RUN_HELP)
    ours.add_argument("--help_beam", action="store_true", help="list Apache Beam's own pipeline options")
    ours.print_help(stream)
    stream.write(COMMANDS)
    stream.write(EXAMPLES)
