"""Matching figures from real command runs against the local TMDB server: the bundled sample as it is and renamed
to a scraped table's field names, and the corpus of shapes (movie_enrichment/testing/corpus.py).

    .venv/bin/python bench/matching_figures.py
"""

import json
import os
import pathlib
import subprocess
import sys
import tempfile

from movie_enrichment.testing import catalog, corpus
from movie_enrichment.testing.tmdb_server import TmdbServer


def run(name: str, table: dict, expected: dict, films: list[dict] | None) -> None:
    with tempfile.TemporaryDirectory() as tmp, TmdbServer(catalog=films, api_key="k") as server:
        db = pathlib.Path(tmp) / "movies.json"
        db.write_text(json.dumps(table))
        env = {**os.environ, "TMDB_API_KEY": "k", "XDG_CACHE_HOME": tmp}
        done = subprocess.run([sys.executable, "-m", "movie_enrichment", "--input", str(db), "--tmdb_base_url",
                               server.url, "--no_http_cache", "--progress", "off", "--max_requests_per_second", "0"],
                              env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(done.stderr)
        after = json.loads(db.read_text())
        counts = server.counts()
        wrong, missed = corpus.score_output(after, expected)
        findable = sum(isinstance(v, int) for v in expected.values())
        looked_up = sum(v != "invalid" for v in expected.values())
        matched = findable - sum(isinstance(want, int) for _, want, _ in wrong + missed)
        configuration = counts["by_endpoint"].get("configuration", 0)
        requests = counts["total"] - configuration
        review = pathlib.Path(f"{db}.review.jsonl")
        listed = len(review.read_text().splitlines()) if review.exists() else 0
        print(f"{name}: {len(table)} records, {findable} findable, {matched} matched ({matched / findable:.1%}), "
              f"{len(wrong)} wrong; {requests} requests for {looked_up} movies looked up = "
              f"{requests / looked_up:.3f}/movie (+{configuration} /configuration); review list {listed} lines")
        if wrong or missed:
            print(f"  wrong {wrong}\n  missed {missed}")


def main() -> None:
    sample, expected = catalog.load(catalog.SAMPLE_FILE), catalog.load(catalog.EXPECTED_FILE)
    run("bundled sample as is", sample, expected, None)
    run("bundled sample renamed (Title, Release Date, Director, IMDb URL, TMDB ID)", corpus.rename_sample(sample),
        expected, None)
    table, answers = corpus.shapes_corpus()
    run("corpus of shapes (10 conventions)", table, answers, corpus.full_catalog())


if __name__ == "__main__":
    main()
