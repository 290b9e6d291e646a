"""WriteReview: the lines it writes, encoded before they cross the runner, are those of the entries, in key order."""

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline

from movie_enrichment.io import jsonlines, review


def _entry(key: str, status: str = "not_found") -> dict:
    return {"key": key, "status": status, "reason": "no results", "title": key, "year": 1999,
            "directors": ["Someone"], "searched": [f"'{key}'"],
            "candidates": [{"tmdb_id": 7, "title": "Other", "year": None, "directors": [], "poster": None,
                            "score": 0.25, "why_not": "title differs"}], "pin": "add a pin"}


def test_review_lines_merge_kept_and_new_in_key_order(tmp_path):
    path = str(tmp_path / "movies.json.review.jsonl")
    kept, redone = _entry("Alpha"), _entry("Delta")
    jsonlines.write(path, [kept, redone])
    new = [_entry("Charlie", "ambiguous"), _entry("Bravo"), _entry("Delta", "ambiguous")]
    with TestPipeline() as p:
        written = p | "Written" >> beam.Create([{"written": True}])
        looked_up = p | "LookedUp" >> beam.Create(["Bravo", "Charlie", "Delta"])
        _ = p | beam.Create(new) | review.WriteReview(path, written, looked_up)
    expected = jsonlines.encode([kept, new[1], new[0], new[2]])
    assert (tmp_path / "movies.json.review.jsonl").read_bytes() == expected


def test_encode_line_is_the_entry_s_json_line():
    entry = _entry("Echo")
    assert review.encode_line(entry) == ("Echo", jsonlines.encode([entry]))
