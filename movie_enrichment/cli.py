"""The `movie-enrich` command's front door: `movie-enrich serve ...` starts the admin console (`console/`), anything
else goes to the pipeline's command line (`pipelines/cli.py`: runs, convert, restore). It sits above both, so
neither imports the other."""

import sys
from typing import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:
        from movie_enrichment.console.serve import main as serve
        return serve(argv[1:])
    from movie_enrichment.pipelines.cli import main as enrich
    return enrich(argv)
