"""`python -m movie_enrichment`: the same as the `movie-enrich` command."""

from movie_enrichment.cli import command

if __name__ == "__main__":
    command()
