"""The `movie-enrich` command: argv in, --help in groups, a run, its table on stdout, an exit status out."""

import argparse
import logging
import sys
from typing import Sequence, TextIO

from movie_enrichment.io import database, sink, stores
from movie_enrichment.pipelines import config as run_config
from movie_enrichment.pipelines import dry_run, launch, process
from movie_enrichment.pipelines import options as opts
from movie_enrichment.pipelines.errors import EXIT_BUSY, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, FatalError


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command and returns its exit status: 0 done, 1 failed, 2 bad option, 3 output busy."""
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
    try:
        _command(argv, sys.stdout)
    except (FatalError, database.DatabaseError, sink.SinkError, stores.StoreError) as error:
        logging.disable(logging.CRITICAL)  # threads of a failed run may still be winding down: one line only
        print(f"movie-enrich: error: {error}", file=sys.stderr)
        sys.stderr.flush()
        logging.disable(logging.NOTSET)
        return getattr(error, "status", EXIT_FAILED)
    except KeyboardInterrupt:
        print("movie-enrich: interrupted; finished batches are kept in the checkpoints", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK


def _command(argv: list[str], stdout: TextIO) -> None:
    options, config = run_config.resolve(argv)
    process.redact_logs(config.settings.api_key)
    config = run_config.with_changed_ids(config)
    quiet = process.set_log_level(config.log_level) > logging.INFO
    if config.dry_run:
        dry_run.describe(config, stdout)
    elif config.watch:
        launch.watch(config, options, stdout, quiet_stderr=quiet)
    else:
        print(launch.run(config, options, quiet_stderr=quiet).table(), file=stdout)


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


def print_help(stream: TextIO) -> None:
    """This project's options first, in groups; then Beam's, which work too."""
    ours = argparse.ArgumentParser(
        prog="movie-enrich", add_help=False,
        description="Enrich a movie database (one JSON file, or a SQLite or PostgreSQL table) with TMDB "
        "metadata and images, as an Apache Beam "
        "pipeline: the file is read once and written once, with a backup, and finished batches are "
        "checkpointed so a rerun resumes.",
        epilog="Every Apache Beam pipeline option works too (--runner, --direct_num_workers, "
        "--direct_running_mode, ...): run with --help_beam to list them. Exit status: 0 done (even if some "
        "movies were not found), 1 failed, 2 bad option, 3 another run holds the output. "
        "Database commands: movie-enrich convert --input A --output B (a JSON file, sqlite:///x.db or "
        "postgresql://..., either way); movie-enrich restore --input DB --run ID (or --list).")
    opts.EnrichmentOptions._add_argparse_args(ours)  # pylint: disable=protected-access
    ours.add_argument(opts.DRY_RUN_FLAG, action="store_true", help=opts.DRY_RUN_HELP)
    ours.add_argument("--help_beam", action="store_true", help="list Apache Beam's own pipeline options")
    ours.print_help(stream)
