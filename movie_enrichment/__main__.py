"""`python -m movie_enrichment`: the same as the `movie-enrich` command."""

import sys

from movie_enrichment.cli import main

if __name__ == "__main__":
    sys.exit(main())
