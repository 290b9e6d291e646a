"""Another program saves the database while a run is going on: nothing of its changes is lost, this run's results
land on every record that still describes the film looked up, and runs and writers take turns through the locks."""

import json
import os
import pathlib
import pickle
import subprocess
import sys
import threading
import time

import orjson
import pytest
from conftest import API_KEY, load

from movie_enrichment import LockBusy, database_lock
from movie_enrichment.io import database, files, lock, sink
from movie_enrichment.testing import synthetic
from movie_enrichment.testing.tmdb_server import TmdbServer
from movie_enrichment.transforms.enrich import match_digest

OWN = ("tmdb", "images", "enrichment")


def _movie(title, year, **extra):
    return {"title": title, "year": year, **extra}


BASE = {f"Film {i}": _movie(f"Film {i}", 1990 + i, rating=i) for i in range(8)}


def _patch(key, record, n):
    """A patch as the pipeline makes it: our fields and the digest of the match inputs looked up."""
    return {"tmdb": {"id": 1000 + n}, "enrichment": {"metadata": {"status": "ok"}},
            sink.LOOKED_UP: match_digest(key, record)}


def _read(path):
    snapshot, _ = database.load(str(path))
    return snapshot.without_bytes()  # as the pipeline's read emits it: the sink reads the file again


def _at(stage, action):
    """A commit's `on_stage` callback that runs `action` each time the commit reaches `stage`."""
    assert stage in sink.STAGES
    return lambda reached: action() if reached == stage else None


def _save(path, value, how):
    """Another program's save: temp file + rename (the careful way), or overwriting the file in place."""
    data = orjson.dumps(value, option=orjson.OPT_INDENT_2)
    if how == "rename":
        temp = path.with_name(path.name + ".scraper-tmp")
        temp.write_bytes(data)
        os.replace(temp, path)
    else:
        with open(path, "r+b") as handle:
            handle.write(data)
            handle.truncate()


def _scraper_edit(value):
    """What the scraper does meanwhile: adds movies, edits a field, deletes one, re-titles one, reorders."""
    value = dict(value)
    value["Film 1"] = {**value["Film 1"], "rating": 99, "notes": "edited by the scraper"}  # not a match input
    del value["Film 2"]  # deleted: its patch is dropped
    value["Film 3"] = {**value["Film 3"], "title": "Another Film"}  # match input changed: its patch is skipped
    value["Film 4"] = {**value["Film 4"], "year": 1970}  # match input changed too
    for i in range(3):
        value[f"New {i}"] = _movie(f"New {i}", 2020 + i)
    return {"New first": _movie("New first", 2001), **value}


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "movies.json"
    path.write_bytes(orjson.dumps(BASE, option=orjson.OPT_INDENT_2))
    return path


def _commit(db, snapshot, patches, **kw):
    return sink.commit(snapshot, patches, str(db), str(db.parent / "backups"), digest=match_digest, **kw)


def _patches(keys=("Film 0", "Film 1", "Film 2", "Film 3", "Film 4")):
    return {k: _patch(k, BASE[k], n) for n, k in enumerate(keys)}


def _assert_merged(db, written, edited):
    after = load(db)
    assert list(after) == list(edited), "the other writer's records and order are kept"
    for key, record in edited.items():
        assert {f: v for f, v in after[key].items() if f not in OWN} == record, key
    assert after["Film 0"]["tmdb"] == {"id": 1000} and after["Film 1"]["tmdb"] == {"id": 1001}
    assert "Film 2" not in after, "a record the other writer deleted stays deleted"
    assert "tmdb" not in after["Film 3"] and "tmdb" not in after["Film 4"], "no result on a changed movie"
    assert sink.LOOKED_UP not in after["Film 0"]
    assert (written["merged"], written["dropped"], written["skipped"]) == (2, 1, 2)
    assert written["changes"] >= 1
    assert [p.name for p in db.parent.iterdir() if ".tmp-" in p.name] == []


def _backups(db):
    folder = db.parent / "backups"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_an_unchanged_file_is_written_as_before(db):
    snapshot = _read(db)
    written = _commit(db, snapshot, _patches())
    assert (written["changes"], written["merged"], written["updated"]) == (0, 0, 5)
    after = load(db)
    assert all(after[k]["tmdb"]["id"] == 1000 + n for n, k in enumerate(list(_patches())))
    assert [b.read_bytes() for b in _backups(db)] == [orjson.dumps(BASE, option=orjson.OPT_INDENT_2)]


@pytest.mark.parametrize("how", ["rename", "in_place"])
def test_a_save_during_the_lookups_is_merged(db, how):
    snapshot = _read(db)  # the run has read the file; its lookups are going on
    edited = _scraper_edit(BASE)
    _save(db, edited, how)
    written = _commit(db, snapshot, _patches())
    _assert_merged(db, written, edited)
    # The backup is the version actually replaced: the scraper's, not the one read at the start.
    assert [orjson.loads(b.read_bytes()) for b in _backups(db)] == [edited]


@pytest.mark.parametrize("saved", [False, True])
def test_packed_patches_write_the_same_file_as_plain_ones(tmp_path, saved):
    """The sink keeps its patches packed (`sink.pack_patch`) and unpacks each as its record is written, on the
    file as read and on a version another program saved meanwhile alike."""
    outputs = []
    for name, pack in (("plain", False), ("packed", True)):
        path = tmp_path / name / "movies.json"
        path.parent.mkdir()
        path.write_bytes(orjson.dumps(BASE, option=orjson.OPT_INDENT_2))
        snapshot = _read(path)
        if saved:
            _save(path, _scraper_edit(BASE), "rename")
        patches = {k: sink.pack_patch(p) if pack else p for k, p in _patches().items()}
        written = _commit(path, snapshot, patches)
        assert written["updated"] == (2 if saved else 5)
        outputs.append(path.read_bytes())
    assert outputs[0] == outputs[1]
    assert load(tmp_path / "packed" / "movies.json")["Film 0"]["tmdb"] == {"id": 1000}


@pytest.mark.parametrize("how", ["rename", "in_place"])
def test_a_save_as_the_sink_starts_is_merged(db, how):
    snapshot = _read(db)
    edited = _scraper_edit(BASE)
    written = _commit(db, snapshot, _patches(), on_stage=_at("start", lambda: _save(db, edited, how)))
    _assert_merged(db, written, edited)


@pytest.mark.parametrize("how", ["rename", "in_place"])
@pytest.mark.parametrize("stage", ["written", "swap"])
def test_a_save_between_the_check_and_the_rename_is_merged(db, how, stage):
    """`written`: the new file is written, the last checks are next; `swap`: after the last look, the instant
    before the new file takes the output's place."""
    snapshot = _read(db)
    edited = _scraper_edit(BASE)
    saves = []

    def save_once():
        if not saves:  # the scraper saves just now, once
            saves.append(1)
            _save(db, edited, how)

    written = _commit(db, snapshot, _patches(), on_stage=_at(stage, save_once))
    _assert_merged(db, written, edited)
    assert written["changes"] == 1
    assert [orjson.loads(b.read_bytes()) for b in _backups(db)] == [edited], "one backup, of the version replaced"


def test_where_files_cannot_be_swapped_the_last_look_before_the_rename_catches_a_save(db, monkeypatch):
    monkeypatch.setattr(files, "exchange", lambda a, b: False)  # other systems, or object stores
    snapshot = _read(db)
    edited = _scraper_edit(BASE)
    saves = []

    def save_once():
        if not saves:
            saves.append(1)
            _save(db, edited, "rename")

    written = _commit(db, snapshot, _patches(), on_stage=_at("written", save_once))
    _assert_merged(db, written, edited)


def test_a_file_that_never_settles_is_a_clear_error_and_nothing_is_lost(db):
    snapshot = _read(db)
    rounds = []

    def save_again():
        rounds.append(1)
        _save(db, {**BASE, f"Round {len(rounds)}": _movie("Round", 2000)}, "rename")

    with pytest.raises(sink.SinkError) as raised:
        _commit(db, snapshot, _patches(), tries=3, on_stage=_at("written", save_again))
    message = str(raised.value)
    assert "kept changing" in message and "3 tries" in message and "\n" not in message
    assert "Round 3" in load(db), "the other program's last save is the file"
    assert _backups(db) == [] and [p.name for p in db.parent.iterdir() if ".tmp-" in p.name] == []


def test_changes_twice_counts_the_last_merge_only(db):
    snapshot = _read(db)
    _save(db, {**BASE, "Extra": _movie("Extra", 2000)}, "rename")
    saves = []

    def save_once():
        if not saves:
            saves.append(1)
            _save(db, _scraper_edit(BASE), "rename")

    written = _commit(db, snapshot, _patches(), on_stage=_at("written", save_once))
    _assert_merged(db, written, _scraper_edit(BASE))
    assert written["changes"] == 2


def test_a_removed_database_is_a_clear_error(db):
    snapshot = _read(db)
    db.unlink()
    with pytest.raises(sink.SinkError, match="was removed while the run was going"):
        _commit(db, snapshot, _patches())
    assert not db.exists()


def test_an_array_database_takes_results_to_the_moved_records(tmp_path):
    path = tmp_path / "movies.json"
    rows = [_movie(f"Film {i}", 1990 + i) for i in range(5)]
    path.write_bytes(orjson.dumps(rows, option=orjson.OPT_INDENT_2))
    snapshot = _read(path)
    patches = {database.position_key(i): _patch(database.position_key(i), rows[i], i) for i in (1, 3, 4)}
    # The scraper inserts a movie at the front (every position shifts), deletes Film 4 and re-years Film 3.
    edited = [_movie("Inserted", 2024), rows[0], rows[1], rows[2], {**rows[3], "year": 1950}]
    _save(path, edited, "rename")
    written = _commit(path, snapshot, patches)
    after = load(path)
    assert [{k: v for k, v in r.items() if k not in OWN} for r in after] == edited
    assert after[2]["tmdb"] == {"id": 1001}, "Film 1 moved from #1 to #2 and still got its result"
    assert all("tmdb" not in after[i] for i in (0, 1, 3, 4))
    assert (written["merged"], written["dropped"], written["skipped"]) == (1, 0, 2)


def test_watch_additions_still_land_when_the_file_changed(db, tmp_path):
    incoming = tmp_path / "incoming.json"
    incoming.write_bytes(orjson.dumps([_movie("Arrived", 2011)]))
    snapshot, items = database.load(str(db))
    _, new = database.load(str(incoming))
    snapshot.additions = tuple(database.merge_new_records(snapshot, items, new))
    snapshot = snapshot.without_bytes()
    patches = {"Arrived": _patch("Arrived", new[0][1], 7)}
    edited = _scraper_edit(BASE)
    _save(db, edited, "rename")
    written = _commit(db, snapshot, patches)
    after = load(db)
    assert list(after) == [*edited, "Arrived"]
    assert after["Arrived"]["tmdb"] == {"id": 1007} and written["merged"] == 1


def test_a_sink_in_another_process_merges_instead_of_failing(db):
    snapshot = _read(db)
    remote = pickle.loads(pickle.dumps(snapshot))  # what any runner ships: the same in every process
    assert remote.data is None and remote == database.load(str(db))[0]
    edited = _scraper_edit(BASE)
    _save(db, edited, "rename")
    written = _commit(db, remote, _patches())
    _assert_merged(db, written, edited)


def test_without_a_match_digest_any_change_of_the_users_fields_keeps_the_result_out(db):
    snapshot = _read(db)
    patches = {k: {f: v for f, v in p.items() if f != sink.LOOKED_UP} | {
        sink.LOOKED_UP: sink.default_digest(k, BASE[k])} for k, p in _patches().items()}
    edited = _scraper_edit(BASE)
    _save(db, edited, "rename")
    written = sink.commit(snapshot, patches, str(db), str(db.parent / "backups"))
    assert (written["merged"], written["dropped"], written["skipped"]) == (1, 1, 3)  # Film 1's rating changed


def test_match_digest_reads_the_match_inputs_only():
    record = {"title": "Alien", "year": 1979, "director": "Ridley Scott", "rating": 8}
    same = match_digest("Alien", record)
    assert match_digest("Alien", {**record, "rating": 9, "images": {"poster": "p.jpg"}}) == same
    for change in ({"title": "Aliens"}, {"year": 1986}, {"director": "James Cameron"}, {"imdb_id": "tt0078748"},
                   {"tmdb_id": 348}):
        assert match_digest("Alien", {**record, **change}) != same, change


# --- Cooperating writers: the exported database lock -------------------------------------------------------


def _hold_in_thread(path, seconds, ready):
    def hold():
        with database_lock(str(path), command="scraper.py --save"):
            ready.set()
            time.sleep(seconds)
    thread = threading.Thread(target=hold)
    thread.start()
    return thread


def test_the_commit_waits_for_a_writer_that_holds_the_database_lock(db):
    snapshot = _read(db)
    ready = threading.Event()
    edited = _scraper_edit(BASE)

    def scraper():
        with database_lock(str(db)):
            ready.set()
            time.sleep(0.5)
            _save(db, edited, "in_place")  # even an in-place save is safe under the lock

    thread = threading.Thread(target=scraper)
    thread.start()
    ready.wait(5)
    written = _commit(db, snapshot, _patches())
    thread.join()
    _assert_merged(db, written, edited)


def test_a_writer_that_keeps_the_lock_too_long_is_named(db):
    snapshot = _read(db)
    ready = threading.Event()
    thread = _hold_in_thread(db, 1.5, ready)
    ready.wait(5)
    try:
        with pytest.raises(LockBusy) as raised:
            _commit(db, snapshot, _patches(), writer_wait=0.2)
    finally:
        thread.join()
    message = str(raised.value)
    assert f"pid {os.getpid()}" in message and "scraper.py --save" in message and "since 20" in message
    assert load(db) == BASE


def test_the_database_lock_is_free_after_use_and_leaves_no_holder_file(db):
    with database_lock(str(db), timeout=0):
        assert lock.holder(lock.database_lock_path(str(db)))["pid"] == os.getpid()
    with database_lock(str(db), timeout=0):
        pass
    assert not os.path.exists(lock.database_lock_path(str(db)) + lock.HOLDER_SUFFIX)


# --- Whole runs: a writer during the lookups, and two runs at once -----------------------------------------

MOVIES = 200


@pytest.fixture(scope="module")
def slow_server():
    with TmdbServer(catalog=synthetic.catalog(MOVIES), api_key=API_KEY, latency_ms=20) as server:
        yield server


def _command(db, url, *extra):
    return [sys.executable, "-m", "movie_enrichment", "--input", str(db), "--tmdb_base_url", url,
            "--no_http_cache", "--progress", "off", "--batch_size", "20", "--max_concurrency", "2",
            "--max_requests_per_second", "0", "--direct_num_workers", "2", *extra]


def _env(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TMDB_API_KEY"}
    env.update(TMDB_API_KEY=API_KEY, XDG_CACHE_HOME=str(tmp_path / "xdg"))
    return env


def _wait_for_checkpoints(db, process, timeout=120):
    deadline = time.monotonic() + timeout
    folder = pathlib.Path(str(db) + ".checkpoints")
    while time.monotonic() < deadline and process.poll() is None:
        if folder.exists() and any(folder.glob("batch-*.json")):
            return True
        time.sleep(0.01)
    return False


@pytest.mark.slow
@pytest.mark.parametrize("how, mode", [("rename", "multi_threading"), ("in_place", "multi_threading"),
                                       ("rename", "multi_processing")])
@pytest.mark.e2e
def test_a_run_keeps_what_a_scraper_saved_during_its_lookups(slow_server, tmp_path, how, mode):
    """multi_processing: the sink runs in a worker process, which reads the file again instead of taking the
    reader's bytes, and finds it changed."""
    db = tmp_path / "movies.json"
    db.write_bytes(synthetic.database(MOVIES))
    run = subprocess.Popen(_command(db, slow_server.url, "--direct_running_mode", mode), env=_env(tmp_path),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert _wait_for_checkpoints(db, run), "the run never got to its lookups"
    # The scraper, the careful way: under the database lock, load, change, save.
    with database_lock(str(db), timeout=30):
        value = load(db)
        titles = list(value)
        for key in titles[:20]:
            value[key] = {**value[key], "rating": 8, "notes": "seen it"}  # not match inputs
        for key in titles[20:25]:
            del value[key]
        for key in titles[25:30]:
            value[key] = {**value[key], "year": 1900}
        for i in range(40):
            value[f"Scraped {i}"] = {"title": f"Scraped {i}", "year": 2030}
        _save(db, value, how)
    out, err = run.communicate(timeout=300)
    assert run.returncode == 0, err
    after = load(db)
    assert list(after) == list(value), "the scraper's additions, deletions and order are all there"
    for key, record in value.items():
        assert {f: v for f, v in after[key].items() if f not in OWN} == record, key
    enriched = [k for k in titles[:20] + titles[30:] if after[k]["enrichment"]["metadata"]["status"] == "ok"]
    assert len(enriched) == MOVIES - 10, "every looked-up record that still exists unchanged has its result"
    assert all("enrichment" not in after[k] for k in titles[25:30]), "no result on a re-dated movie"
    report = orjson.loads(pathlib.Path(str(db) + ".report.json").read_bytes())["other_writers"]
    assert report == {"saves_merged": 1, "results_merged": MOVIES - 10, "results_dropped_record_deleted": 5,
                      "results_skipped_match_inputs_changed": 5}
    assert "another program saved the database" in out


@pytest.mark.e2e
@pytest.mark.slow
def test_two_runs_at_once_the_second_fails_fast_or_waits_its_turn(slow_server, tmp_path):
    db = tmp_path / "movies.json"
    db.write_bytes(synthetic.database(MOVIES))
    env = _env(tmp_path)
    first = subprocess.Popen(_command(db, slow_server.url), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    assert _wait_for_checkpoints(db, first)
    refused = subprocess.run(_command(db, slow_server.url), env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 3
    assert f"pid {first.pid}" in refused.stderr and "movie-enrich --input" in refused.stderr
    assert "--lock_timeout" in refused.stderr and API_KEY not in refused.stderr
    queued = subprocess.run(_command(db, slow_server.url, "--lock_timeout", "300", "--reprocess", "all",
                                     "--enrich", "metadata"),
                            env=env, capture_output=True, text=True, timeout=400)
    assert first.wait(timeout=300) == 0
    assert queued.returncode == 0, queued.stderr
    after = load(db)
    assert len(after) == MOVIES and all(r["enrichment"]["metadata"]["status"] == "ok" for r in after.values())
    assert all(r["enrichment"]["images"]["status"] == "ok" for r in after.values()), "the first run's work kept"


@pytest.mark.e2e
@pytest.mark.slow
def test_a_scraper_saving_all_through_a_run_loses_nothing_and_neither_does_the_run(slow_server, tmp_path):
    """A cooperating scraper saves every 20 ms from start to end (alternately by rename and in place)."""
    db = tmp_path / "movies.json"
    db.write_bytes(synthetic.database(MOVIES))
    run = subprocess.Popen(_command(db, slow_server.url), env=_env(tmp_path), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    saves = 0
    while run.poll() is None:
        with database_lock(str(db), timeout=60, command="test scraper"):
            value = load(db)
            value[f"Storm {saves}"] = {"title": f"Storm {saves}", "year": 2031}
            _save(db, value, ("rename", "in_place")[saves % 2])
        saves += 1
        time.sleep(0.02)
    _, err = run.communicate()
    assert run.returncode == 0, err
    after = load(db)
    assert [k for k in after if k.startswith("Storm")] == [f"Storm {i}" for i in range(saves)], "no save lost"
    films = [r for k, r in after.items() if not k.startswith("Storm")]
    assert len(films) == MOVIES and all(r["enrichment"]["metadata"]["status"] == "ok" for r in films), saves
    assert saves > 20
    print(f"{saves} saves by the scraper during the run, all kept; {MOVIES} of {MOVIES} films enriched")


def test_a_database_in_a_folder_nobody_can_lock_is_still_read(tmp_path, monkeypatch):
    path = tmp_path / "movies.json"
    path.write_bytes(b"{}")
    real = lock.filelock.FileLock.acquire

    def refused(self, *args, **kwargs):
        if str(self.lock_file).endswith(lock.DATABASE_SUFFIX):
            raise PermissionError(13, "Permission denied", self.lock_file)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(lock.filelock.FileLock, "acquire", refused)
    with database_lock(str(path), timeout=0):
        assert path.read_bytes() == b"{}"
    with pytest.raises(PermissionError), lock.run_lock(str(path)):
        pass


def test_the_other_programs_bytes_are_kept_where_this_run_changes_nothing(db):
    snapshot = _read(db)
    edited = {**_scraper_edit(BASE), "Amélie": _movie("Amélie", 2001, note="8.30")}
    text = json.dumps(edited, indent=4, ensure_ascii=True)  # another layout, with \u escapes
    db.write_text(text)
    written = _commit(db, snapshot, _patches())
    out = db.read_text()
    assert written["merged"] == 2
    assert '"Am\\u00e9lie": {\n        "title": "Am\\u00e9lie"' in out, "an untouched record keeps its bytes"
    assert json.loads(out)["Film 0"]["tmdb"] == {"id": 1000}
    untouched = text.split('"Film 3"')[1]  # everything from Film 3 on is the other program's bytes
    assert out.endswith(untouched)
