"""The `movie-enrich` command's front door: `movie-enrich serve ...` starts the admin console (`console/`), anything
else goes to the pipeline's command line (`pipelines/cli.py`: runs, convert, restore). It sits above both, so
neither imports the other."""

import gc
import sys
from typing import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:
        from movie_enrichment.console.serve import main as serve
        return serve(argv[1:])
    from movie_enrichment.pipelines.cli import main as enrich
    return enrich(argv)


# Optional to Apache Beam (it imports each under try/except ImportError when it is first imported, from
# apache_beam.io) and used by no run: MongoDB's client, Arrow (Parquet) and BigQuery with Google's HTTP and
# auth libraries. Marked absent before that first import, they cost nothing: a quarter of the import's CPU time
# (0.8 s instead of 1.1 s measured on a loaded machine), which is most of the time before the first request.
UNUSED_BY_A_RUN = ("pymongo", "pyarrow", "apache_beam.io.gcp.bigquery")


def _leave_out_unused_modules() -> None:
    if "apache_beam" in sys.modules:
        return
    for name in UNUSED_BY_A_RUN:
        sys.modules.setdefault(name, None)  # `import name` then raises ImportError


def command() -> None:
    """The console script and `python -m movie_enrichment`: `main()`, then the process's exit.

    Only here, where the process is the command's alone, Beam's optional connectors that no run uses are left
    out (`UNUSED_BY_A_RUN`); a program that imports this package keeps whatever it imports.

    Before exiting, every object left is frozen (`gc.freeze`): Python's finalisation would otherwise run full
    collections over the whole heap (Beam's graph and runner, gRPC's and protobuf's descriptors), measured at
    0.8-2.5 s of CPU after the run had finished; the operating system reclaims the memory at once instead.
    Only here, where the process ends next: a program that calls `main()` keeps its collector as it was.
    """
    _leave_out_unused_modules()
    status = main()
    gc.freeze()
    sys.exit(status)
