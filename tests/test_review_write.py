"""WriteReview: the lines it writes are those of the entries, in key order; the entries are spooled as lines, so the
write step holds about their size (issue 23 point 7)."""

import tracemalloc

import apache_beam as beam
from apache_beam.testing.test_pipeline import TestPipeline

from movie_enrichment.io import jsonlines, review
from movie_enrichment.io.sink import spool


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


def test_the_entries_reach_the_write_step_as_spooled_files_removed_once_written(tmp_path):
    path = str(tmp_path / "movies.json.review.jsonl")
    entries = [_entry(f"Film {n:03d}") for n in range(30)]
    with TestPipeline() as p:
        written = p | "Written" >> beam.Create([{"written": True}])
        looked_up = p | "LookedUp" >> beam.Create([e["key"] for e in entries])
        _ = p | beam.Create(list(reversed(entries))) | review.WriteReview(path, written, looked_up)
    assert (tmp_path / "movies.json.review.jsonl").read_bytes() == jsonlines.encode(entries)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["movies.json.review.jsonl"], "the spool is removed"


def _spool(folder: str, entries: list[dict]) -> list[str]:
    fn = spool.SpoolFn(folder, review.encode_line, "review")
    fn.start_bundle()
    for entry in entries:
        fn.process(entry)
    return [value.value for value in fn.finish_bundle()]


def test_the_write_step_holds_lines_not_entries(tmp_path):
    """Issue 23 point 7: 4,000 films left to review, half kept from the earlier list, half spooled by this run:
    the write step's peak is about the lines' size, where a list of the entries as dicts took several times it
    (the earlier list was read whole as dicts, the new entries came as a side input decoded in one list)."""
    path = str(tmp_path / "movies.json.review.jsonl")
    kept = [_entry(f"Kept {n:05d}") for n in range(2000)]
    new = [_entry(f"New {n:05d}", "ambiguous") for n in range(2000)]
    jsonlines.write(path, kept + [_entry("New 00000")])
    folder = review.spool_dir_for(path)
    paths = _spool(folder, new)
    expected = jsonlines.encode(sorted(kept + new, key=lambda e: e["key"]))
    fn = review._WriteReviewFn(path, folder)
    tracemalloc.start()
    try:
        assert list(fn.process({}, paths, iter([e["key"] for e in new]))) == [4000]
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (tmp_path / "movies.json.review.jsonl").read_bytes() == expected
    assert peak < 2.5 * len(expected), f"peak {peak:,} B for {len(expected):,} B of lines"
    assert not (tmp_path / "movies.json.review.jsonl.spool").exists()


def test_the_write_step_run_again_after_it_succeeded_writes_the_same_list(tmp_path):
    path = str(tmp_path / "movies.json.review.jsonl")
    folder = review.spool_dir_for(path)
    paths = _spool(folder, [_entry("Bravo"), _entry("Alpha")])
    fn = review._WriteReviewFn(path, folder)
    assert list(fn.process({}, paths, ["Alpha", "Bravo"])) == [2]
    first = (tmp_path / "movies.json.review.jsonl").read_bytes()
    list(fn.process({}, paths, ["Alpha", "Bravo"]))  # a runner's retry: the spool is gone by now
    assert (tmp_path / "movies.json.review.jsonl").read_bytes() == first == jsonlines.encode(
        [_entry("Alpha"), _entry("Bravo")])


def test_parts_made_apart_are_spooled_apart_and_written_as_one_list(tmp_path):
    path = str(tmp_path / "movies.json.review.jsonl")
    with TestPipeline() as p:
        written = p | "Written" >> beam.Create([{"written": True}])
        looked_up = p | "LookedUp" >> beam.Create(["Bravo", "Delta"])
        review_part = p | "Review" >> beam.Create([_entry("Delta"), _entry("Bravo")])
        shared_part = p | "Shared" >> beam.Create([_entry("Charlie", "shared")])
        _ = (review_part, shared_part) | review.WriteReview(path, written, looked_up)
    assert (tmp_path / "movies.json.review.jsonl").read_bytes() == jsonlines.encode(
        [_entry("Bravo"), _entry("Charlie", "shared"), _entry("Delta")])
