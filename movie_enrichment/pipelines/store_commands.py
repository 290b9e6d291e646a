"""The commands that move a database between stores and take a run back: `convert` and `restore`."""

import argparse
from typing import Sequence, TextIO

from movie_enrichment.io import stores
from movie_enrichment.model import new_run_id


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise stores.StoreError(f"bad option: {message}")


def _parser(prog: str, description: str) -> argparse.ArgumentParser:
    parser = _Parser(prog=f"movie-enrich {prog}", description=description, allow_abbrev=False)
    parser.add_argument("--table", default=stores.DEFAULT_TABLE,
                        help=f"the table of a database store (default {stores.DEFAULT_TABLE})")
    return parser


def convert(argv: Sequence[str], out: TextIO) -> int:
    """`movie-enrich convert --input A --output B`: copies every record, in order, into a new store.

    The output must be new (a file that does not exist, or an empty table): nothing the user has is overwritten.
    A JSON file's layout (object, array or JSON Lines; indentation; byte-order mark) is kept in the database's
    meta table, so converting back gives the same file.
    """
    parser = _parser("convert", "Copy a movie database into another store: a JSON file, sqlite:///path.db or "
                     "postgresql://user@host:port/db, either way.")
    parser.add_argument("--input", required=True, help="the database to read")
    parser.add_argument("--output", required=True, help="the new database to write")
    args = parser.parse_args(list(argv))
    if args.input == args.output:
        raise stores.StoreError("convert needs an --output other than its --input")
    with stores.open_store(args.input, args.table, create=False) as source:
        layout = source.layout()
        with stores.open_store(args.output, args.table) as target, target.run_lock():
            written = target.replace_all(source.read(), layout)
    out.write(f"converted {written} records from {stores.redact_url(args.input)} "
              f"to {stores.redact_url(args.output)}\n")
    return written


def restore(argv: Sequence[str], out: TextIO) -> int:
    """`movie-enrich restore --input STORE --run ID`: puts back the rows (or the file) as they were before a run.

    The rows being replaced are kept under a new run id, so a restore can itself be restored. `--list` shows
    the runs that can be restored.
    """
    parser = _parser("restore", "Put a database back as it was before a run (`--list` shows the runs).")
    parser.add_argument("--input", required=True, help="the database: a JSON file or a store URL")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--run", help="the run's id, as --list shows it")
    group.add_argument("--list", action="store_true", help="list the runs that can be restored")
    args = parser.parse_args(list(argv))
    with stores.open_store(args.input, args.table, create=False) as store:
        if args.list:
            for run in store.runs():
                rows = f", {run.rows} rows" if run.rows >= 0 else ""
                out.write(f"{run.run_id}  {run.saved_at}{rows}\n")
            return 0
        with store.run_lock():
            restored = store.restore(args.run, "restore-" + new_run_id())
    out.write(f"restored {restored} records of {store.describe()} to their state before run {args.run}\n")
    return restored
