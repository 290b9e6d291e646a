"""Counts of a movie database by enrichment status, made in a child process (`python -m
movie_enrichment.console.counts DB`) so that the console's own memory stays small whatever the database size.

Prints one JSON object: {"movies": N, "enrichers": {"metadata": {"ok": n, ..., "not_enriched": n}, ...}}.
"""

import sys
from collections import Counter

import orjson

ENRICHERS = ("metadata", "images")
NOT_ENRICHED = "not_enriched"


def count(items) -> dict:
    """(key, record) pairs -> the number of movies and, per enricher, the number in each status."""
    by_enricher = {name: Counter() for name in ENRICHERS}
    movies = 0
    for _key, record in items:
        movies += 1
        outcomes = record.get("enrichment") if isinstance(record, dict) else None
        for name, counter in by_enricher.items():
            outcome = outcomes.get(name) if isinstance(outcomes, dict) else None
            status = outcome.get("status") if isinstance(outcome, dict) else None
            counter[status if isinstance(status, str) else NOT_ENRICHED] += 1
    return {"movies": movies, "enrichers": {name: dict(sorted(c.items())) for name, c in by_enricher.items()}}


def main(argv: list[str]) -> int:
    from movie_enrichment.io import database
    try:
        _snapshot, items = database.load(argv[0])
    except (OSError, ValueError) as error:
        sys.stdout.write(orjson.dumps({"error": str(error).splitlines()[0]}).decode() + "\n")
        return 1
    sys.stdout.write(orjson.dumps(count(items)).decode() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
