"""The bundled test data in data/: a TMDB-like movie catalog and a scraped sample database with its expected matches.

The JSON files are the source. `catalog.json` holds full TMDB /movie/{id} bodies (credits, images and
external_ids appended), which `scripts/catalog_film.py` makes from a short description of a film;
`sample_movies.json` is keyed as a scraper writes it, and `sample_expected.json` gives, per key, the TMDB id
the matcher must find, NOT_FOUND (no such film in the catalog) or INVALID (no usable title).
"""

from __future__ import annotations

import json
import pathlib

from movie_enrichment.model import INVALID, NOT_FOUND  # noqa: F401  (answers the expected matches use)

DATA_DIR = pathlib.Path(__file__).parent / "data"
CATALOG_FILE = "catalog.json"
SAMPLE_FILE = "sample_movies.json"
EXPECTED_FILE = "sample_expected.json"


def load(name: str):
    """One of the data files, parsed."""
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


def render(value: object) -> str:
    """The exact text of a data file, so that an edit made by a script changes only what it means to."""
    return json.dumps(value, ensure_ascii=False, indent=1) + "\n"
