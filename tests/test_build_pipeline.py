"""The whole graph, `build_pipeline`, on a TestPipeline over temporary files with a fake TMDB client: what it
writes, and the Beam counters the report is made of."""

import pathlib
import shutil

import apache_beam as beam
import orjson
import pytest
from apache_beam.metrics import MetricsFilter
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from fakes import FakeClient

from movie_enrichment.io import progress
from movie_enrichment.io.tmdb import TmdbSettings
from movie_enrichment.pipelines.config import RunConfig
from movie_enrichment.pipelines.enrich_pipeline import build_pipeline
from movie_enrichment.transforms.selection import Selector

MOVIES = {
    "Psycho": {"title": "Psycho", "year": 1960, "note": "kept as it is"},
    "Psycho (1998)": {"title": "Psycho", "year": 1998, "director": "Gus Van Sant"},
    "Nothing": {"title": "No Such Film"},
    "Untitled": {"title": "", "year": 1999},
    "Done before": {"title": "Psycho", "year": 1960,
                    "enrichment": {"metadata": {"status": "ok"}, "images": {"status": "ok"}}},
}


def _config(tmp_path, movies=MOVIES, **changes) -> RunConfig:
    db = tmp_path / "movies.json"
    db.write_bytes(orjson.dumps(movies))
    fields = dict(input=str(db), output=str(db), backup_dir=str(tmp_path / "backups"),
                  failures=str(tmp_path / "movies.json.failures.jsonl"),
                  review=str(tmp_path / "movies.json.review.jsonl"),
                  checkpoint_dir=str(tmp_path / "checkpoints"),
                  settings=TmdbSettings(api_key="secret-key-123", base_url="http://fake.invalid/3"),
                  selector=Selector(), batch_size=2)
    return RunConfig(**{**fields, **changes})


def _counter(result, name: str) -> int:
    found = result.metrics().query(MetricsFilter().with_namespace(progress.METRICS_NAMESPACE).with_name(name))
    return sum(c.committed if c.committed is not None else c.attempted for c in found["counters"])


@pytest.mark.slow
def test_the_whole_graph_enriches_writes_once_and_counts_every_outcome(tmp_path):
    config = _config(tmp_path)
    p = TestPipeline()
    out = build_pipeline(p, config, client_factory=FakeClient)
    assert_that(out["selected"] | beam.Keys(), equal_to(["Psycho", "Psycho (1998)", "Nothing", "Untitled"]),
                label="selected")
    assert_that(out["written"] | beam.Map(lambda w: (w["records"], w["updated"])), equal_to([(5, 4)]),
                label="written once")
    assert_that(out["failures"], equal_to([]), label="no failures")
    result = p.run()
    result.wait_until_finish()

    written = orjson.loads((tmp_path / "movies.json").read_bytes())
    assert list(written) == list(MOVIES), "every key kept, in order"
    assert written["Psycho"]["tmdb"]["id"] == 539 and written["Psycho"]["note"] == "kept as it is"
    assert written["Psycho (1998)"]["tmdb"]["id"] == 11252
    assert written["Nothing"]["enrichment"]["metadata"]["status"] == "not_found"
    assert written["Untitled"]["enrichment"]["images"]["status"] == "invalid" and "tmdb" not in written["Untitled"]
    assert written["Done before"] == MOVIES["Done before"], "a record that needs nothing is not touched"
    assert [p.name for p in (tmp_path / "backups").iterdir()] != [], "the previous file was backed up"
    assert not (tmp_path / "movies.json.failures.jsonl").exists()

    assert _counter(result, "selected") == 4
    assert (_counter(result, "lookup_ok"), _counter(result, "lookup_not_found"),
            _counter(result, "lookup_invalid")) == (2, 1, 1)
    assert (_counter(result, "metadata_ok"), _counter(result, "images_ok")) == (2, 2)
    # Two searches and two details, one search that finds nothing, and /configuration once per DoFn instance.
    assert 6 <= _counter(result, "requests") <= 5 + 4
    assert _counter(result, "resumed") == 0


@pytest.mark.slow
def test_failures_are_listed_and_a_rerun_resumes_them_from_the_checkpoints(tmp_path):
    """The first graph fails every search (503s): the failures are listed after the database is written; the
    lookups were checkpointed, so a second graph on the same files makes no request for them."""
    config = _config(tmp_path, selector=Selector(enrichers=("metadata",)))
    p = TestPipeline()
    build_pipeline(p, config, client_factory=lambda settings: FakeClient(settings, fail_search=True))
    result = p.run()
    result.wait_until_finish()
    listed = [orjson.loads(line) for line in (tmp_path / "movies.json.failures.jsonl").read_bytes().splitlines()]
    assert [(f["key"], f["enricher"]) for f in listed] == [("Nothing", "metadata"), ("Psycho", "metadata"),
                                                           ("Psycho (1998)", "metadata")], "sorted, one per line"
    assert "secret-key-123" not in str(listed)
    assert _counter(result, "lookup_failed") == 3 and _counter(result, "request_errors") == 0

    # The database was written, but the launcher, not the graph, removes the checkpoints after that: a graph
    # run again on the same files selects the failed movies (mode `missing`) and resumes them from the
    # checkpoints, with no request.
    rerun = TestPipeline()
    build_pipeline(rerun, config, client_factory=FakeClient)
    again = rerun.run()
    again.wait_until_finish()
    assert (_counter(again, "resumed"), _counter(again, "resumed_failed")) == (3, 3)
    assert _counter(again, "selected") == 3, "the invalid record was recorded as such: nothing to redo"
    assert _counter(again, "requests") == 0


# The records tests/fixtures/checkpoints_v1 was made from: checkpoints of format version 1 (the "Nothing" lookup
# covers metadata only).
V1 = pathlib.Path(__file__).parent / "fixtures" / "checkpoints_v1"
V1_MOVIES = {"Psycho": {"title": "Psycho", "year": 1960},
             "Psycho (1998)": {"title": "Psycho", "year": 1998, "director": "Gus Van Sant"},
             "Nothing": {"title": "No Such Film"}}


def _timeless(value, leave_out=("updated_at",)):
    if isinstance(value, dict):
        return {k: _timeless(v, leave_out) for k, v in value.items() if k not in leave_out}
    return [_timeless(v, leave_out) for v in value] if isinstance(value, list) else value


def _run_v1(folder, checkpoints=None):
    """The graph over V1_MOVIES, with `checkpoints` copied in as the checkpoint folder: (result, written file)."""
    folder.mkdir()
    if checkpoints is not None:
        shutil.copytree(checkpoints, folder / "checkpoints")
    p = TestPipeline()
    build_pipeline(p, _config(folder, V1_MOVIES), client_factory=FakeClient)
    result = p.run()
    result.wait_until_finish()
    return result, orjson.loads((folder / "movies.json").read_bytes())


@pytest.mark.slow
def test_checkpoints_of_format_version_1_are_resumed_into_the_same_result(tmp_path):
    fresh_result, fresh = _run_v1(tmp_path / "fresh")
    result, resumed = _run_v1(tmp_path / "resumed", V1)
    assert _counter(result, "resumed") == 2, "both Psycho lookups come from the old checkpoint"
    assert _counter(result, "lookup_not_found") == 1, "the metadata-only lookup cannot serve images: redone"
    assert _counter(result, "requests") < _counter(fresh_result, "requests")
    assert resumed["Psycho"]["enrichment"]["metadata"]["updated_at"] == "2026-12-01T11:34:45Z", "from the file"
    # A version-1 checkpoint holds the match but not how it was scored: the outcome has no `match` explanation
    # (the next lookup of the film writes one); everything else is what a fresh run writes.
    assert "match" not in resumed["Psycho"]["enrichment"]["metadata"]
    assert "match" in fresh["Psycho"]["enrichment"]["metadata"]
    unexplained = ("updated_at", "match")
    assert _timeless(resumed, unexplained) == _timeless(fresh, unexplained)
    assert list(resumed["Psycho"]) == list(fresh["Psycho"])


@pytest.mark.slow
def test_checkpoints_of_an_unknown_version_are_ignored_and_their_movies_looked_up(tmp_path):
    future = tmp_path / "future"
    shutil.copytree(V1, future)
    for path in future.iterdir():
        path.write_bytes(path.read_bytes().replace(b'"version":1', b'"version":0'))
    _, fresh = _run_v1(tmp_path / "fresh")
    result, written = _run_v1(tmp_path / "ignored", future)
    assert _counter(result, "resumed") == 0
    assert _counter(result, "lookup_ok") == 2 and _counter(result, "lookup_not_found") == 1
    assert _timeless(written) == _timeless(fresh)
