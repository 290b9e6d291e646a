"""Tests for movie_enrichment.io.sink: safe replacement of the output, backups, pruning and the write transform."""

from __future__ import annotations

import datetime
import json
import os
import pathlib
import re
import stat

import apache_beam as beam
import pytest
from apache_beam.io.filesystems import FileSystems
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from movie_enrichment.io import database, files, sink, stop
from movie_enrichment.io.database import ReadMovieDatabase
from movie_enrichment.io.sink import UNCHANGED, SinkError, WriteDatabase, spool, write_database
from movie_enrichment.io.sink.write import _WriteDatabaseFn

_STAMPED = re.compile(r"^movies\.(\d{8}T\d{12})Z\.json$")


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _stamp_time(name: str) -> datetime.datetime:
    match = _STAMPED.match(name)
    assert match, name
    return datetime.datetime.strptime(match.group(1), "%Y%m%dT%H%M%S%f").replace(tzinfo=datetime.timezone.utc)


def _old_backup(folder, day: int, name: str = "movies") -> str:
    path = folder / f"{name}.202001{day:02d}T000000000000Z.json"
    path.write_bytes(f"backup {name} {day}".encode())
    return path.name


# --- write_database ---------------------------------------------------------------------------------


def test_fresh_output_is_written_and_no_backup_returned(tmp_path):
    output = tmp_path / "movies.json"
    backups = tmp_path / "backups"
    assert write_database(str(output), str(backups), b'{"a": 1}\n') is None
    assert output.read_bytes() == b'{"a": 1}\n'
    assert not backups.exists()  # nothing to back up, so no folder either
    assert sorted(os.listdir(tmp_path)) == ["movies.json"]


def test_existing_output_is_backed_up_with_utc_stamp_and_replaced(tmp_path):
    output = tmp_path / "movies.json"
    output.write_bytes(b"previous \xc3\xa9 bytes\n")
    backups = tmp_path / "backups"
    before = _utc_now()
    backup = write_database(str(output), str(backups), b"new bytes\n")
    after = _utc_now()

    assert backup is not None
    assert os.path.dirname(backup) == str(backups)
    name = os.path.basename(backup)
    # The stamp is UTC: it lies between the two UTC clock readings around the call.
    assert before - datetime.timedelta(seconds=1) <= _stamp_time(name) <= after + datetime.timedelta(seconds=1)
    assert open(backup, "rb").read() == b"previous \xc3\xa9 bytes\n"
    assert output.read_bytes() == b"new bytes\n"
    assert os.listdir(backups) == [name]


def test_backup_name_keeps_stem_and_extension():
    when = datetime.datetime(2026, 11, 25, 12, 13, 14, 123456, tzinfo=datetime.timezone.utc)
    assert sink.backup_name("/db/movies.json", when) == "movies.20261125T121314123456Z.json"
    assert sink.backup_name("/db/movies", when) == "movies.20261125T121314123456Z"
    assert sink.backup_name("/db/my.movies.jsonl", when) == "my.movies.20261125T121314123456Z.jsonl"


def test_no_temp_files_left_behind(tmp_path):
    output = tmp_path / "movies.json"
    for round_ in range(3):
        write_database(str(output), str(tmp_path / "backups"), f"round {round_}\n".encode())
    assert sorted(os.listdir(tmp_path)) == ["backups", "movies.json"]
    assert output.read_bytes() == b"round 2\n"
    assert not [name for name in os.listdir(tmp_path / "backups") if "tmp" in name]


def test_new_file_is_complete_and_backup_exists_before_the_rename(tmp_path, monkeypatch):
    output = tmp_path / "movies.json"
    output.write_bytes(b"old\n")
    backups = tmp_path / "backups"
    real_rename = FileSystems.rename
    seen = []

    def spy(sources, destinations):
        temp = sources[0]
        seen.append({
            "temp_dir": os.path.dirname(temp),
            "temp_bytes": open(temp, "rb").read(),
            "output_bytes": output.read_bytes(),
            "backups": os.listdir(backups),
            "destination": destinations[0],
        })
        return real_rename(sources, destinations)

    monkeypatch.setattr(FileSystems, "rename", spy)
    write_database(str(output), str(backups), b"new\n")
    onto_output = [call for call in seen if call["destination"] == str(output)]
    assert len(onto_output) == 1, "one rename puts the new file in place (the backup has its own)"
    call = onto_output[0]
    assert call["temp_dir"] == str(tmp_path)  # beside the output, so the rename stays on one file system
    assert call["temp_bytes"] == b"new\n"
    assert call["output_bytes"] == b"old\n"
    assert len(call["backups"]) == 1
    assert call["destination"] == str(output)


def test_pruning_keeps_the_newest_backups(tmp_path):
    output = tmp_path / "movies.json"
    output.write_bytes(b"current\n")
    backups = tmp_path / "backups"
    backups.mkdir()
    old = [_old_backup(backups, day) for day in range(1, 6)]  # five backups from January 2020
    backup = write_database(str(output), str(backups), b"next\n", keep_backups=3)
    remaining = sorted(os.listdir(backups))
    assert remaining == sorted(old[-2:] + [os.path.basename(backup)])
    assert open(backup, "rb").read() == b"current\n"


def test_keep_backups_zero_keeps_all(tmp_path):
    output = tmp_path / "movies.json"
    output.write_bytes(b"current\n")
    backups = tmp_path / "backups"
    backups.mkdir()
    old = [_old_backup(backups, day) for day in range(1, 6)]
    backup = write_database(str(output), str(backups), b"next\n", keep_backups=0)
    assert sorted(os.listdir(backups)) == sorted(old + [os.path.basename(backup)])


def test_pruning_never_touches_backups_of_another_output(tmp_path):
    output = tmp_path / "movies.json"
    output.write_bytes(b"current\n")
    backups = tmp_path / "backups"
    backups.mkdir()
    others = [_old_backup(backups, day, name="movies.fr") for day in range(1, 4)]
    backup = write_database(str(output), str(backups), b"next\n", keep_backups=3)
    assert os.path.exists(backup), "the backup just made was pruned"
    assert sorted(os.listdir(backups)) == sorted(others + [os.path.basename(backup)])


def test_missing_output_folder_is_sink_error_and_creates_nothing(tmp_path):
    output = tmp_path / "missing" / "movies.json"
    with pytest.raises(SinkError) as excinfo:
        write_database(str(output), str(tmp_path / "missing" / "backups"), b"{}\n")
    assert "does not exist" in str(excinfo.value)
    assert os.listdir(tmp_path) == []


def _assert_failed_write_left_previous_output(folder, output, previous: bytes):
    assert output.read_bytes() == previous
    assert not [name for name in os.listdir(folder) if "tmp" in name]


def test_read_only_output_folder_fails_and_keeps_previous_output(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    output = folder / "movies.json"
    output.write_bytes(b"previous\n")
    backups = tmp_path / "backups"  # writable, so the failure is in the output folder
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as a user that chmod cannot stop (root); see the rename-failure test")
        with pytest.raises(OSError):
            write_database(str(output), str(backups), b"new\n")
        _assert_failed_write_left_previous_output(folder, output, b"previous\n")
    finally:
        folder.chmod(stat.S_IRWXU)


def test_failed_rename_keeps_previous_output_and_removes_the_temp_file(tmp_path, monkeypatch):
    output = tmp_path / "movies.json"
    output.write_bytes(b"previous \x00 bytes\n")
    backups = tmp_path / "backups"
    attempts = []

    def failing_rename(sources, destinations):
        attempts.append(sources[0])
        assert os.path.exists(sources[0])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(FileSystems, "rename", failing_rename)
    with pytest.raises(OSError):
        write_database(str(output), str(backups), b"new\n")
    assert attempts and not any(os.path.exists(a) for a in attempts)
    _assert_failed_write_left_previous_output(tmp_path, output, b"previous \x00 bytes\n")
    # The backup is renamed into place too, so it failed as well, and left nothing half-made.
    assert all(open(backups / name, "rb").read() == b"previous \x00 bytes\n" for name in os.listdir(backups))


def test_atomic_write_failure_while_writing_removes_the_temp_file(tmp_path, monkeypatch):
    output = tmp_path / "state.json"
    output.write_bytes(b"previous\n")

    def failing_fsync(fd):
        raise OSError(5, "I/O error")

    monkeypatch.setattr(files.os, "fsync", failing_fsync)
    with pytest.raises(OSError):
        files.atomic_write(str(output), b"new\n")
    assert os.listdir(tmp_path) == ["state.json"]
    assert output.read_bytes() == b"previous\n"


def test_default_backup_dir_and_beside():
    assert sink.default_backup_dir("/db/movies.json") == "/db/backups"
    assert files.beside("/db/movies.json", ".lock") == "/db/movies.json.lock"


# --- The write transform ----------------------------------------------------------------------------


MOVIES = {"Zodiac": {"title": "Zodiac", "year": 2007}, "Amélie": {"title": "Amélie", "year": 2001},
          "Alien": {"title": "Alien", "year": 1979}}


def _summary(result: dict) -> tuple:
    return result["records"], result["updated"], result["backup"] is not None


@pytest.mark.parametrize("spool", [False, True], ids=["side_input", "spooled"])
def test_write_database_transform_applies_patches_to_every_record(tmp_path, spool):
    source = tmp_path / "in.json"
    source.write_bytes(json.dumps(MOVIES, indent=4, ensure_ascii=False).encode("utf-8") + b"\n")
    output = tmp_path / "out.json"
    output.write_bytes(b"an older output\n")
    spool_dir = tmp_path / "out.json.patches"
    patches = [("Alien", {"tmdb": {"id": 348}}), ("Zodiac", {"tmdb": {"id": 1949}, "year": 2008})]
    with BeamTestPipeline() as pipeline:
        read = pipeline | ReadMovieDatabase(str(source))
        results = (pipeline | "Patches" >> beam.Create(patches)
                   | WriteDatabase(read.snapshot, str(output), str(tmp_path / "backups"),
                                   spool_dir=str(spool_dir) if spool else None))
        assert_that(results | beam.Map(_summary), equal_to([(3, 2, True)]))
    assert not spool_dir.exists(), "the spooled patches are removed once the database is written"

    expected = json.loads(json.dumps(MOVIES))
    expected["Alien"]["tmdb"] = {"id": 348}
    expected["Zodiac"].update({"tmdb": {"id": 1949}, "year": 2008})
    written = output.read_bytes()
    assert written == json.dumps(expected, indent=4, ensure_ascii=False).encode("utf-8") + b"\n"
    assert list(json.loads(written)) == ["Zodiac", "Amélie", "Alien"]
    assert [(tmp_path / "backups" / name).read_bytes() for name in os.listdir(tmp_path / "backups")] == [
        b"an older output\n"]


@pytest.mark.parametrize("spool", [False, True], ids=["side_input", "spooled"])
def test_write_database_transform_writes_when_there_are_no_patches(tmp_path, spool):
    source = tmp_path / "in.json"
    data = b"\xef\xbb\xbf" + json.dumps(list(MOVIES.values()), indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
    source.write_bytes(data)
    output = tmp_path / "out.json"
    with BeamTestPipeline() as pipeline:
        read = pipeline | ReadMovieDatabase(str(source))
        no_patches = pipeline | "NoPatches" >> beam.Create([]).with_output_types(tuple[str, dict])
        results = no_patches | WriteDatabase(read.snapshot, str(output), str(tmp_path / "backups"),
                                             spool_dir=str(tmp_path / "spool") if spool else None)
        assert_that(results | beam.Map(_summary), equal_to([(3, 0, False)]))
    assert output.read_bytes() == data
    assert not (tmp_path / "backups").exists()


def test_a_spooled_patches_file_cut_short_is_an_error(tmp_path):
    path = tmp_path / "patches-0.bin"
    fn = spool.SpoolPatchesFn(str(tmp_path))
    fn.start_bundle()
    fn.process(("Amélie", {"tmdb": {"id": 194}}))
    fn.process(("Alien", {"tmdb": {"id": 348}}))
    (spooled,) = [value.value for value in fn.finish_bundle()]
    whole = pathlib.Path(spooled).read_bytes()
    assert [(key, sink.unpack_patch(packed)[0]) for key, packed in sink.read_spool([spooled])] == [
        ("Amélie", {"tmdb": {"id": 194}}), ("Alien", {"tmdb": {"id": 348}})]
    path.write_bytes(whole[:-3])
    with pytest.raises(sink.SinkError, match="cut short"):
        list(sink.read_spool([str(path)]))


def test_a_run_asked_to_stop_spools_nothing_and_leaves_no_folder(tmp_path):
    spool_dir = tmp_path / "movies.json.patches"
    fn = spool.SpoolPatchesFn(str(spool_dir))
    fn.start_bundle()
    stop.request()
    try:
        with pytest.raises(stop.StopRequested):
            fn.process(("Alien", {"tmdb": {"id": 348}}))
    finally:
        stop.clear()
    assert list(fn.finish_bundle()) == [] and not spool_dir.exists()


# --- The write step may run again (Beam's finalize): the spool stays until the commit has succeeded ---------


def _spooled_write(folder: pathlib.Path):
    """A database, its snapshot as the read emits it, two bundles' spool files and the write step's DoFn."""
    folder.mkdir(exist_ok=True)
    db = folder / "movies.json"
    db.write_bytes(json.dumps(MOVIES, indent=2, ensure_ascii=False).encode("utf-8") + b"\n")
    snapshot = database.load(str(db))[0].without_bytes()
    spool_dir = sink.spool_dir_for(str(db))
    paths = []
    for bundle in ([("Alien", {"tmdb": {"id": 348}})], [("Zodiac", {"tmdb": {"id": 1949}, "year": 2007})]):
        fn = spool.SpoolPatchesFn(spool_dir)
        fn.start_bundle()
        for element in bundle:
            fn.process(element)
        paths += [value.value for value in fn.finish_bundle()]
    write = _WriteDatabaseFn(str(db), str(folder / "backups"), 10, None, None, spool_dir)
    return db, snapshot, paths, write


def _folder(db: pathlib.Path) -> dict[str, bytes]:
    """Every file under the database's folder, with its bytes."""
    return {str(p.relative_to(db.parent)): p.read_bytes() for p in sorted(db.parent.rglob("*")) if p.is_file()}


def test_the_write_step_run_again_on_the_same_inputs_gives_the_same_file_and_no_error(tmp_path):
    db, snapshot, paths, write = _spooled_write(tmp_path)
    (first,) = write.process(snapshot, paths)
    assert (first["records"], first["updated"]) == (3, 2)
    after = _folder(db)
    assert json.loads(after["movies.json"])["Zodiac"]["tmdb"] == {"id": 1949}
    assert not pathlib.Path(sink.spool_dir_for(str(db))).exists(), "the spool goes once the commit succeeded"
    (again,) = write.process(snapshot, paths)  # a runner retries the bundle after it succeeded
    assert again["already_committed"] is True
    assert _folder(db) == after, "the same file, and no other backup"


def test_a_retry_after_the_spool_was_partly_removed_takes_the_record_of_the_commit(tmp_path, monkeypatch):
    db, snapshot, paths, write = _spooled_write(tmp_path)
    removing = []
    monkeypatch.setattr(spool, "remove_spool", lambda spool_dir, paths=(): removing.append(spool_dir))
    (first,) = write.process(snapshot, paths)
    pathlib.Path(paths[0]).unlink()  # the worker died while removing the spool
    after = _folder(db)
    monkeypatch.undo()
    (again,) = write.process(snapshot, paths)
    assert removing and again == first, "the first attempt's result, from its record"
    assert _folder(db) == {name: data for name, data in after.items() if not name.startswith("movies.json.patches")}
    assert not pathlib.Path(sink.spool_dir_for(str(db))).exists()


def test_a_failed_commit_keeps_the_spool_and_its_retry_writes_what_a_first_success_would(tmp_path, monkeypatch):
    db, snapshot, paths, write = _spooled_write(tmp_path / "failing")
    before = db.read_bytes()
    real_publish = files.publish

    def full_disk(temp, path, durable=True):
        raise OSError(28, "No space left on device", path)

    monkeypatch.setattr(files, "publish", full_disk)
    with pytest.raises(SinkError, match="No space left on device"):
        list(write.process(snapshot, paths))
    assert db.read_bytes() == before, "the database is untouched"
    assert all(pathlib.Path(p).exists() for p in paths), "the spool is kept for the retry"
    monkeypatch.setattr(files, "publish", real_publish)
    (retried,) = write.process(snapshot, paths)
    clean_db, clean_snapshot, clean_paths, clean_write = _spooled_write(tmp_path / "clean")
    (clean,) = clean_write.process(clean_snapshot, clean_paths)
    assert db.read_bytes() == clean_db.read_bytes() and (retried["updated"], clean["updated"]) == (2, 2)
    assert not pathlib.Path(sink.spool_dir_for(str(db))).exists()


def test_a_commit_done_but_not_recorded_is_committed_again_to_the_same_file(tmp_path, monkeypatch):
    db, snapshot, paths, write = _spooled_write(tmp_path)

    def crash(*args):
        raise RuntimeError("the worker died here")

    monkeypatch.setattr(spool, "record_commit", crash)
    with pytest.raises(RuntimeError):
        list(write.process(snapshot, paths))
    after = _folder(db)
    assert all(pathlib.Path(p).exists() for p in paths)
    monkeypatch.undo()
    (again,) = write.process(snapshot, paths)
    assert again["updated"] == 0, "the patches are in the file already: nothing is written again"
    assert _folder(db) == {name: data for name, data in after.items() if not name.startswith("movies.json.patches")}


def test_spool_files_gone_in_part_without_a_record_are_a_clear_error(tmp_path):
    db, snapshot, paths, write = _spooled_write(tmp_path)
    before = db.read_bytes()
    pathlib.Path(paths[1]).unlink()
    with pytest.raises(SinkError, match="1 of the 2 files of spooled patches are gone"):
        list(write.process(snapshot, paths))
    assert db.read_bytes() == before


def test_removing_the_spool_twice_is_no_error(tmp_path):
    _, _, paths, _ = _spooled_write(tmp_path)
    spool_dir = sink.spool_dir_for(str(tmp_path / "movies.json"))
    sink.remove_spool(spool_dir, paths)
    sink.remove_spool(spool_dir, paths)
    assert not pathlib.Path(spool_dir).exists()


def test_an_unchanged_database_is_not_written_again(tmp_path):
    output = tmp_path / "movies.json"
    output.write_bytes(b'{"a": 1}\n')
    stamp = output.stat().st_mtime_ns
    backups = tmp_path / "backups"
    assert write_database(str(output), str(backups), [b'{"a"', b': 1}\n']) == UNCHANGED
    assert write_database(str(output), str(backups), b'{"a": 1}\n', previous=b'{"a": 1}\n') == UNCHANGED
    assert output.stat().st_mtime_ns == stamp and not backups.exists()
    assert sorted(os.listdir(tmp_path)) == ["movies.json"], "no temporary file either"
    assert write_database(str(output), str(backups), [b'{"a"', b': 2}\n']) != UNCHANGED
    assert output.read_bytes() == b'{"a": 2}\n'
    assert write_database(str(output), str(backups), b'{"a": 2}\n\n') != UNCHANGED, "a longer file differs"


def test_a_backup_identical_to_the_newest_is_not_written_again(tmp_path):
    output = tmp_path / "movies.json"
    backups = tmp_path / "backups"
    backups.mkdir()
    newest = backups / "movies.20200101T000000000000Z.json"
    newest.write_bytes(b"current\n")
    output.write_bytes(b"current\n")  # restored by hand from the newest backup, say
    assert write_database(str(output), str(backups), b"next\n") == str(newest)
    assert os.listdir(backups) == [newest.name]
    assert output.read_bytes() == b"next\n"


def test_rotation_removes_duplicates_first_and_never_the_only_copy_of_a_version(tmp_path):
    output = tmp_path / "movies.json"
    output.write_bytes(b"current\n")
    backups = tmp_path / "backups"
    backups.mkdir()
    distinct = _old_backup(backups, 1)
    copies = []
    for day in range(2, 12):  # ten identical copies, as no-op runs used to leave them
        path = backups / f"movies.202001{day:02d}T000000000000Z.json"
        path.write_bytes(b"the same\n")
        copies.append(path.name)
    backup = write_database(str(output), str(backups), b"next\n", keep_backups=3)
    assert sorted(os.listdir(backups)) == sorted([distinct, copies[-1], os.path.basename(backup)])
