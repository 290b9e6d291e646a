"""Tests for movie_enrichment.io.checkpoints: idempotent batch files, reading them back, damage, clearing."""

from __future__ import annotations

import dataclasses
import logging
import os
import pathlib
import shutil

import orjson
import pytest
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from movie_enrichment.io.checkpoints import FORMAT_VERSION, CheckpointStore, ReadCheckpoints
from movie_enrichment.model import Lookup


def _hit(key: str, tmdb_id: int) -> Lookup:
    return Lookup(key, f"fp-{key}", ("metadata",), tmdb_id=tmdb_id, score=1.0,
                  details={"id": tmdb_id, "title": f"Movie {key}"}, updated_at="2026-01-31T12:00:00Z")


BATCH_A = [_hit("Alien", 348), _hit("Zodiac", 1949), _hit("Amélie", 194)]
BATCH_B = [_hit("Heat", 949), _hit("Ran", 11645)]
# A batch file of format version 1, as the previous version of LookupTmdbFn wrote it (tests/fakes.py's films).
V1 = pathlib.Path(__file__).parent / "fixtures" / "checkpoints_v1"


def _batch_files(folder) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.startswith("batch-") and name.endswith(".json"))


def test_write_batch_creates_the_folder_and_a_readable_file(tmp_path):
    folder = tmp_path / "ckpt" / "nested"
    path = CheckpointStore(str(folder)).write_batch(BATCH_A)
    assert os.path.dirname(path) == str(folder)
    assert orjson.loads(open(path, "rb").read()) == {"version": FORMAT_VERSION, "lookups": [
        {"key": h.key, "fingerprint": h.fingerprint, "enrichers": ["metadata"], "status": "ok", "tmdb_id": h.tmdb_id,
         "score": 1.0, "error": None, "details": h.details, "updated_at": "2026-01-31T12:00:00Z",
         "match_inputs": None, "pinned": None, "review": None, "match": None, "previous_tmdb_id": None}
        for h in BATCH_A]}
    assert os.listdir(folder) == [os.path.basename(path)]  # no temp file left beside it


def test_the_records_context_is_not_kept(tmp_path):
    """`prior` and `looked_up` come from the record of the run that reads the checkpoint, not from the file."""
    store = CheckpointStore(str(tmp_path))
    with_context = dataclasses.replace(BATCH_A[0], prior={"metadata": {"status": "failed"}}, looked_up="abc")
    path = store.write_batch([with_context])
    assert b"prior" not in open(path, "rb").read() and b"looked_up" not in open(path, "rb").read()
    assert list(store.read_all()) == [BATCH_A[0]]


def test_a_version_1_file_is_read_as_lookups(tmp_path):
    """A batch file written by the previous format (its lookups were dicts called hits) is converted."""
    shutil.copytree(V1, tmp_path / "ckpt")
    lookups = {h.key: h for h in CheckpointStore(str(tmp_path / "ckpt")).read_all()}
    assert sorted(lookups) == ["Nothing", "Psycho", "Psycho (1998)"]
    psycho = lookups["Psycho"]
    assert isinstance(psycho, Lookup) and psycho.enrichers == ("metadata", "images")
    assert (psycho.status, psycho.tmdb_id, psycho.score, psycho.details["id"]) == ("ok", 539, 1.0, 539)
    assert psycho.match_inputs == "84d5605f4d8394050006" and psycho.updated_at == "2026-12-01T11:34:45Z"
    assert lookups["Psycho (1998)"].prior is None, "the record's context is taken from the record again"
    assert lookups["Nothing"].status == "not_found" and lookups["Nothing"].review["title"] == "No Such Film"


def test_a_version_1_lookup_without_the_later_fields_reads_them_as_none(tmp_path):
    entry = {"key": "Heat", "fingerprint": "f", "enrichers": ["metadata"], "status": "ok", "tmdb_id": 949,
             "score": 0.9, "error": None, "details": {"id": 949}, "updated_at": "2025-01-01T00:00:00Z",
             "prior": None}
    (tmp_path / "batch-old.json").write_bytes(orjson.dumps({"version": 1, "hits": [entry]}))
    assert list(CheckpointStore(str(tmp_path)).read_all()) == [
        Lookup("Heat", "f", ("metadata",), "ok", 949, 0.9, None, {"id": 949}, "2025-01-01T00:00:00Z")]


def test_files_of_an_unknown_version_are_ignored_with_one_line(tmp_path, caplog):
    store = CheckpointStore(str(tmp_path))
    store.write_batch(BATCH_B)
    for name in ("batch-future1.json", "batch-future2.json"):
        (tmp_path / name).write_bytes(orjson.dumps({"version": 3, "lookups": [{"key": "Alien"}]}))
    with caplog.at_level(logging.WARNING, logger="movie_enrichment.io.checkpoints"):
        assert sorted(hit.key for hit in store.read_all()) == ["Heat", "Ran"]
    [line] = [r.getMessage() for r in caplog.records]
    assert line == (f"Ignoring 2 checkpoint files of format version 3 in {tmp_path} (this program reads 1 and "
                    f"{FORMAT_VERSION}): their movies are looked up again")


def test_write_batch_name_is_deterministic_for_the_same_keys_in_any_order(tmp_path):
    store = CheckpointStore(str(tmp_path))
    first = store.write_batch(BATCH_A)
    again = store.write_batch(list(reversed(BATCH_A)))
    # A fresh store (another worker) computes the same name too.
    other = CheckpointStore(str(tmp_path)).write_batch([BATCH_A[1], BATCH_A[2], BATCH_A[0]])
    assert first == again == other
    assert _batch_files(tmp_path) == [os.path.basename(first)]
    assert sorted(hit.key for hit in store.read_all()) == ["Alien", "Amélie", "Zodiac"]


def test_different_keys_give_different_files(tmp_path):
    store = CheckpointStore(str(tmp_path))
    assert store.write_batch(BATCH_A) != store.write_batch(BATCH_B)
    assert store.write_batch(BATCH_A[:2]) != store.write_batch(BATCH_A)
    assert len(_batch_files(tmp_path)) == 3


def test_write_batch_of_nothing_writes_nothing(tmp_path):
    folder = tmp_path / "ckpt"
    assert CheckpointStore(str(folder)).write_batch([]) is None
    assert not folder.exists()


def test_read_all_returns_every_hit(tmp_path):
    store = CheckpointStore(str(tmp_path / "ckpt"))
    store.write_batch(BATCH_A)
    store.write_batch(BATCH_B)
    hits = list(CheckpointStore(str(tmp_path / "ckpt")).read_all())
    assert sorted(hits, key=lambda h: h.key) == sorted(BATCH_A + BATCH_B, key=lambda h: h.key)


@pytest.mark.parametrize("damage", [b"", b'{"version": 1, "hits": [{"key": "x"', b"\xff\xfe garbage",
                                    b"[1, 2, 3]", b'{"version": 99, "hits": [{"key": "future"}]}'],
                         ids=["empty", "truncated", "binary", "not-an-object", "other-version"])
def test_damaged_file_is_skipped_and_the_others_still_read(tmp_path, damage):
    folder = tmp_path / "ckpt"
    store = CheckpointStore(str(folder))
    store.write_batch(BATCH_A)
    store.write_batch(BATCH_B)
    # Named to sort between/before the good files, so a failure cannot hide behind the order.
    (folder / "batch-0000.json").write_bytes(damage)
    (folder / "batch-zzzz.json").write_bytes(damage)
    keys = sorted(hit.key for hit in store.read_all())
    assert keys == sorted(hit.key for hit in BATCH_A + BATCH_B)


def test_files_that_are_not_batches_are_ignored(tmp_path):
    store = CheckpointStore(str(tmp_path))
    store.write_batch(BATCH_B)
    (tmp_path / "notes.json").write_bytes(orjson.dumps({"version": 1, "hits": [{"key": "intruder"}]}))
    (tmp_path / ".batch-x.json.tmp-123").write_bytes(orjson.dumps({"version": 1, "hits": [{"key": "temp"}]}))
    assert sorted(hit.key for hit in store.read_all()) == ["Heat", "Ran"]


def test_missing_folder_reads_nothing(tmp_path):
    store = CheckpointStore(str(tmp_path / "never"))
    assert store.paths() == []
    assert list(store.read_all()) == []
    store.clear()  # clearing nothing is fine
    assert not (tmp_path / "never").exists()


def test_clear_removes_the_files_and_the_folder(tmp_path):
    folder = tmp_path / "ckpt"
    store = CheckpointStore(str(folder))
    store.write_batch(BATCH_A)
    store.write_batch(BATCH_B)
    store.clear()
    assert not folder.exists()
    assert list(store.read_all()) == []
    assert os.listdir(tmp_path) == []


def test_clear_leaves_a_folder_that_holds_other_files(tmp_path):
    folder = tmp_path / "ckpt"
    folder.mkdir()
    (folder / "notes.txt").write_text("not a checkpoint")
    store = CheckpointStore(str(folder))
    store.write_batch(BATCH_A)
    store.clear()
    assert _batch_files(folder) == []
    assert (folder / "notes.txt").read_text() == "not a checkpoint"


# --- The read transform -----------------------------------------------------------------------------


@pytest.mark.slow
def test_read_checkpoints_on_a_missing_folder_yields_nothing(tmp_path):
    with BeamTestPipeline() as pipeline:
        assert_that(pipeline | ReadCheckpoints(str(tmp_path / "missing")), equal_to([]))
    assert not (tmp_path / "missing").exists()


@pytest.mark.slow
def test_read_checkpoints_without_a_folder_yields_nothing():
    with BeamTestPipeline() as pipeline:
        assert_that(pipeline | ReadCheckpoints(None), equal_to([]))


@pytest.mark.slow
def test_read_checkpoints_yields_key_and_hit(tmp_path):
    store = CheckpointStore(str(tmp_path))
    store.write_batch(BATCH_A)
    store.write_batch(BATCH_B)
    (tmp_path / "batch-broken.json").write_bytes(b"{")
    with BeamTestPipeline() as pipeline:
        assert_that(pipeline | ReadCheckpoints(str(tmp_path)),
                    equal_to([(hit.key, hit) for hit in BATCH_A + BATCH_B]))
