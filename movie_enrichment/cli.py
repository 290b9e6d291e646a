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


def command() -> None:
    """The console script and `python -m movie_enrichment`: `main()`, then the process's exit.

    Before exiting, every object left is frozen (`gc.freeze`): Python's finalisation would otherwise run full
    collections over the whole heap (Beam's graph and runner, gRPC's and protobuf's descriptors), measured at
    0.8-2.5 s of CPU after the run had finished; the operating system reclaims the memory at once instead.
    Only here, where the process ends next: a program that calls `main()` keeps its collector as it was.
    """
    status = main()
    gc.freeze()
    sys.exit(status)
