"""The command on database stores, end to end: SQLite files and the suite's own PostgreSQL server.

The same behaviours as the JSON file's suites: a full run equal to the JSON path's, a rerun that costs nothing
and writes nothing, reprocess, restore, convert both ways, a SIGKILL mid-run then a resume, and a concurrent
writer that loses nothing.
"""

import csv
import json
import os
import pathlib
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import orjson
import pytest
from conftest import API_KEY, DATA, load, run_cli

from movie_enrichment.io.stores import open_store, sqlite_path
from movie_enrichment.testing import synthetic
from movie_enrichment.testing.tmdb_server import TmdbServer

pytestmark = pytest.mark.slow

OWN = ("tmdb", "images", "enrichment")


@pytest.fixture
def sample_db(tmp_path) -> pathlib.Path:
    """One film in four of the bundled sample (50, with films not found and invalid among them): the store tests
    check what the store does with a run's rows, not the matches, which test_end_to_end checks on the whole sample.
    Written in the sample's own layout, so that a round trip compares bytes."""
    data = json.loads((DATA / "sample_movies.json").read_bytes())
    path = tmp_path / "db" / "movies.json"
    path.parent.mkdir()
    path.write_text(json.dumps(dict(list(data.items())[::4]), indent=1, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    return path


def environment(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "TMDB_API_KEY"}
    env.update(TMDB_API_KEY=API_KEY, XDG_CACHE_HOME=str(tmp_path / "xdg"))
    return env


def command(url, server, *extra) -> list[str]:
    return [sys.executable, "-m", "movie_enrichment", "--input", str(url), "--tmdb_base_url", server.url,
            "--no_http_cache", "--progress", "off", "--max_requests_per_second", "0", *map(str, extra)]


def run(args, tmp_path, timeout=600):
    """The command in this test's process (`conftest.run_cli`), from tmp_path as the working folder: a new
    interpreter would only add Apache Beam's import to each run. Kills and concurrent writers use real processes."""
    assert args[:3] == [sys.executable, "-m", "movie_enrichment"], args
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        return run_cli(args[3:], tmp_path, env={"XDG_CACHE_HOME": str(tmp_path / "xdg")}, timeout=timeout)
    finally:
        os.chdir(here)


def convert(source, target, tmp_path):
    done = run([sys.executable, "-m", "movie_enrichment", "convert", "--input", str(source),
                "--output", str(target)], tmp_path)
    assert done.returncode == 0, done.stderr
    return done


def comparable(db: dict) -> dict:
    """Everything but timestamps, in order (key order inside records included)."""
    out = []
    for key, record in db.items():
        if isinstance(record, dict) and isinstance(record.get("enrichment"), dict):
            record = {**record, "enrichment": {e: {k: v for k, v in o.items() if k != "updated_at"}
                                               for e, o in record["enrichment"].items()}}
        out.append((key, list(record) if isinstance(record, dict) else None, record))
    return out


def records(url) -> dict:
    with open_store(url, create=False) as store:
        return dict(store.read())


def test_a_run_on_a_store_equals_the_json_run_and_a_rerun_writes_nothing(store_url, tmdb_server, sample_db,
                                                                           tmp_path):
    original = load(sample_db)
    convert(sample_db, store_url, tmp_path)
    json_copy = tmp_path / "json" / "movies.json"
    json_copy.parent.mkdir()
    json_copy.write_bytes(sample_db.read_bytes())
    assert run(command(json_copy, tmdb_server), tmp_path).returncode == 0

    tmdb_server.reset_counts()
    done = run(command(store_url, tmdb_server), tmp_path)
    assert done.returncode == 0, done.stderr
    assert "movies_history" in done.stdout, done.stdout
    requests = tmdb_server.counts()["total"]
    enriched = records(store_url)
    assert comparable(enriched) == comparable(load(json_copy)), "the same fields, values and order as the JSON path"
    assert [k for k in enriched] == list(original)

    tmdb_server.reset_counts()
    again = run(command(store_url, tmdb_server), tmp_path)
    assert again.returncode == 0, again.stderr
    assert tmdb_server.counts()["total"] == 0 and "no row changed" in again.stdout
    assert records(store_url) == enriched
    with open_store(store_url) as store:
        assert len(store.runs()) == 1, "a run that changes nothing leaves no history"

    back = tmp_path / "back.json"
    convert(store_url, back, tmp_path)
    assert back.read_bytes() == json_copy.read_bytes() or comparable(load(back)) == comparable(load(json_copy))
    assert requests > 0


def test_convert_round_trips_the_file_byte_for_byte(store_url, sample_db, tmp_path):
    convert(sample_db, store_url, tmp_path)
    back = tmp_path / "back.json"
    convert(store_url, back, tmp_path)
    assert back.read_bytes() == sample_db.read_bytes()
    refused = run([sys.executable, "-m", "movie_enrichment", "convert", "--input", str(sample_db),
                   "--output", store_url], tmp_path)
    assert refused.returncode == 1 and "already holds 50 records" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1


def test_reprocess_and_restore(store_url, tmdb_server, sample_db, tmp_path):
    convert(sample_db, store_url, tmp_path)
    before = records(store_url)
    assert run(command(store_url, tmdb_server), tmp_path).returncode == 0
    after_first = records(store_url)
    not_found = [k for k, r in after_first.items() if isinstance(r, dict)
                 and r["enrichment"]["metadata"]["status"] == "not_found"]
    assert not_found

    tmdb_server.reset_counts()
    done = run(command(store_url, tmdb_server, "--reprocess", "not_found", "--enrich", "metadata"), tmp_path)
    assert done.returncode == 0, done.stderr
    report = orjson.loads((tmp_path / pathlib.Path(_sidecar(store_url) + ".report.json")).read_bytes())
    assert report["movies_looked_up"] == len(not_found)
    assert report["rows_read"] == len(not_found), "the selection ran in the database"

    listed = run([sys.executable, "-m", "movie_enrichment", "restore", "--input", store_url, "--list"], tmp_path)
    run_ids = [line.split()[0] for line in listed.stdout.splitlines()]
    assert len(run_ids) == 2, listed.stdout + listed.stderr
    restored = run([sys.executable, "-m", "movie_enrichment", "restore", "--input", store_url, "--run", run_ids[0]],
                   tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert records(store_url) == before, "restoring the first run puts every row back as it was"
    listed = run([sys.executable, "-m", "movie_enrichment", "restore", "--input", store_url, "--list"], tmp_path)
    history = [line.split()[0] for line in listed.stdout.splitlines()]
    assert history[:2] == run_ids and len(history) == 3, listed.stdout
    run_id = r"\d{8}T\d{6}Z-[0-9a-f]{6}"  # what a run's report and progress file call it
    assert all(re.fullmatch(run_id, r) for r in run_ids), run_ids
    assert re.fullmatch("restore-" + run_id, history[2]), "the restore keeps the rows it replaced under its own id"
    bad = run([sys.executable, "-m", "movie_enrichment", "restore", "--input", store_url, "--run", "nope"], tmp_path)
    assert bad.returncode == 1 and "no run 'nope'" in bad.stderr


def _sidecar(url: str) -> str:
    if url.startswith("sqlite"):
        return sqlite_path(url)
    return url.rsplit("/", 1)[-1] + ".movies"


def test_a_pin_on_an_already_matched_row_is_applied_in_any_mode(store_url, tmdb_server, sample_db, tmp_path):
    """The store's SQL pre-selection keeps the pinned keys, as the JSON path does: a pin not yet applied is
    looked up again (by its id alone, one request) even where the row's outcomes are all done."""
    convert(sample_db, store_url, tmp_path)
    assert run(command(store_url, tmdb_server), tmp_path).returncode == 0
    before = records(store_url)
    matched = [k for k, r in before.items() if isinstance(r, dict) and isinstance(r.get("tmdb"), dict)
               and r["tmdb"].get("id") and not set(k) & set(',"')]
    key, other = matched[0], matched[1]
    new_id = before[other]["tmdb"]["id"]
    assert before[key]["tmdb"]["id"] != new_id
    pins = tmp_path / "pins.csv"
    with open(pins, "w", newline="") as handle:
        csv.writer(handle).writerows([("key", "tmdb_id"), (key, new_id)])
    tmdb_server.reset_counts()
    done = run(command(store_url, tmdb_server, "--pins", pins), tmp_path)
    assert done.returncode == 0, done.stderr
    after = records(store_url)
    assert after[key]["tmdb"]["id"] == new_id
    assert tmdb_server.counts()["by_endpoint"].get("movie") == 1, tmdb_server.counts()
    assert {k: v for k, v in after.items() if k != key} == {k: v for k, v in before.items() if k != key}


def test_history_keeps_only_the_newest_runs(store_url, tmdb_server, tmp_path):
    db = tmp_path / "few.json"
    db.write_bytes(synthetic.database(6))
    convert(db, store_url, tmp_path)
    with TmdbServer(catalog=synthetic.catalog(6), api_key=API_KEY) as server:
        for _ in range(3):
            done = run(command(store_url, server, "--reprocess", "all", "--keep_backups", "2"), tmp_path)
            assert done.returncode == 0, done.stderr
    with open_store(store_url) as store:
        assert len(store.runs()) == 2


def test_bad_store_inputs_are_one_line_errors(tmdb_server, tmp_path):
    missing = run(command(f"sqlite:///{tmp_path / 'none.db'}", tmdb_server), tmp_path)
    assert missing.returncode == 1 and "SQLite database not found" in missing.stderr
    assert not (tmp_path / "none.db").exists()
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE movies (id INTEGER)")
    conn.commit()
    conn.close()
    wrong = run(command(f"sqlite:///{other}", tmdb_server), tmp_path)
    assert wrong.returncode == 1 and "is not a movie table" in wrong.stderr
    assert len(wrong.stderr.strip().splitlines()) == 1
    output = run(command(f"sqlite:///{other}", tmdb_server, "--output", tmp_path / "x.json"), tmp_path)
    assert output.returncode == 2 and "enriched in place" in output.stderr


# -- crash and concurrent writers ------------------------------------------------------------------------------

MOVIES = 400
BATCH = 20
WORKERS = 2


@pytest.fixture(scope="module")
def slow_server():
    with TmdbServer(catalog=synthetic.catalog(MOVIES), api_key=API_KEY, latency_ms=15) as server:
        yield server


def slow_command(url, server):
    return command(url, server, "--batch_size", BATCH, "--max_concurrency", 4, "--direct_num_workers", WORKERS)


def history_rows(url) -> int:
    try:
        with open_store(url, create=False) as store:
            return sum(r.rows for r in store.runs())
    except Exception:  # pylint: disable=broad-except
        return 0


@pytest.mark.e2e
def test_sigkill_mid_run_then_resume_repeats_at_most_a_batch_per_worker(store_url, slow_server, tmp_path):
    db = tmp_path / "synthetic.json"
    db.write_bytes(synthetic.database(MOVIES))
    reference = tmp_path / "reference.json"
    reference.write_bytes(db.read_bytes())
    slow_server.reset_counts()
    assert run(slow_command(reference, slow_server), tmp_path).returncode == 0
    reference_requests = slow_server.counts()["total"]

    convert(db, store_url, tmp_path)
    slow_server.reset_counts()
    process = subprocess.Popen(slow_command(store_url, slow_server), env=environment(tmp_path), cwd=tmp_path,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while history_rows(store_url) < 2 * BATCH and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    written = history_rows(store_url)
    assert 0 < written < MOVIES, f"the kill landed mid-run ({written} rows written)"
    killed_requests = slow_server.counts()["total"]

    slow_server.reset_counts()
    done = run(slow_command(store_url, slow_server), tmp_path)
    assert done.returncode == 0, done.stderr
    assert comparable(records(store_url)) == comparable(load(reference))
    repeated = killed_requests + slow_server.counts()["total"] - reference_requests
    assert repeated <= WORKERS * BATCH * 2 * 2 + 2 * WORKERS, repeated
    print(f"\n{store_url.split(':')[0]}: {written} rows written before the kill, {repeated} requests repeated")


@pytest.mark.e2e
def test_a_concurrent_writer_loses_nothing(store_url, slow_server, tmp_path):
    db = tmp_path / "synthetic.json"
    db.write_bytes(synthetic.database(MOVIES))
    convert(db, store_url, tmp_path)
    process = subprocess.Popen(slow_command(store_url, slow_server), env=environment(tmp_path), cwd=tmp_path,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    edits, inserts = {}, []
    stop = threading.Event()

    def scraper():
        # Edits a field of its own in existing rows (in SQL, on the row as it is now) and inserts new movies.
        conn = _connect(store_url)
        n = 0
        while not stop.is_set() and n < 2000:
            key = synthetic.title(n % MOVIES)
            _execute(conn, store_url, "UPDATE movies SET record = " + _set_field(store_url) + " WHERE key = ?",
                     (n, key))
            edits[key] = n
            if n % 10 == 0:
                new = f"Scraped {n}"
                _execute(conn, store_url, "INSERT INTO movies (key, record) VALUES (?, ?)",
                         (new, orjson.dumps({"title": new, "scraped": n}).decode()))
                inserts.append(new)
            n += 1
            time.sleep(0.002)
        conn.close()

    thread = threading.Thread(target=scraper)
    thread.start()
    try:
        _, err = process.communicate(timeout=600)
    finally:
        stop.set()
        thread.join()
    assert process.returncode == 0, err
    final = records(store_url)
    assert all(final[key].get("scraped") == n for key, n in edits.items()), "every edit of the scraper is kept"
    assert all(key in final for key in inserts), "every row the scraper inserted is kept"
    enriched = [k for k in (synthetic.title(i) for i in range(MOVIES))
                if final[k].get("enrichment", {}).get("metadata", {}).get("status") == "ok"]
    assert len(enriched) == MOVIES, "and every movie is enriched"
    assert list(final)[:MOVIES] == [synthetic.title(i) for i in range(MOVIES)]
    # The scraper's new rows are movies like any other: the next run enriches what it can of them.
    assert history_rows(store_url) >= MOVIES


def _connect(url):
    if url.startswith("sqlite"):
        conn = sqlite3.connect(sqlite_path(url), timeout=60, isolation_level=None)
        return conn
    import psycopg
    return psycopg.connect(url, autocommit=True)


def _execute(conn, url, statement, params):
    if not url.startswith("sqlite"):
        statement = statement.replace("?", "%s")
    conn.execute(statement, params)


def _set_field(url) -> str:
    if url.startswith("sqlite"):
        return "json_set(record, '$.scraped', ?)"
    return "(record::jsonb || jsonb_build_object('scraped', %s::int))::json"


def test_dry_run_on_a_store_reads_only_the_selection(store_url, tmdb_server, sample_db, tmp_path):
    convert(sample_db, store_url, tmp_path)
    done = run(command(store_url, tmdb_server, "--dry_run"), tmp_path)
    assert done.returncode == 0, done.stderr
    assert "dry run: 50 records" in done.stdout and "nothing was requested or written" in done.stdout
    assert tmdb_server.counts()["total"] == 0


def test_a_second_run_on_a_held_store_exits_3(store_url, tmdb_server, sample_db, tmp_path):
    convert(sample_db, store_url, tmp_path)
    with open_store(store_url) as store, store.run_lock():
        busy = run(command(store_url, tmdb_server), tmp_path)
    assert busy.returncode == 3 and "another run is already enriching" in busy.stderr
    assert tmdb_server.counts()["total"] == 0


def test_a_second_run_waits_lock_timeout_for_a_held_store_then_names_the_holder(store_url, tmdb_server, sample_db,
                                                                               tmp_path):
    convert(sample_db, store_url, tmp_path)
    with open_store(store_url) as store, store.run_lock(command="movie-enrich --input the-first-run"):
        started = time.monotonic()
        busy = run(command(store_url, tmdb_server, "--lock_timeout", "1"), tmp_path)
        waited = time.monotonic() - started
    assert busy.returncode == 3, busy.stderr
    refusals = [line for line in busy.stderr.splitlines() if "another run is already enriching" in line]
    assert len(refusals) == 1, busy.stderr
    assert "still after 1 s" in refusals[0] and f"pid {os.getpid()}" in refusals[0]
    assert "movie-enrich --input the-first-run" in refusals[0] and "pass --lock_timeout" not in refusals[0]
    assert waited >= 1.0 and tmdb_server.counts()["total"] == 0
    with open_store(store_url) as store, store.run_lock():  # the holder released it: free again
        pass


def test_a_postgres_password_never_reaches_output_or_report(postgres_server, tmdb_server, sample_db, tmp_path):
    url = postgres_server.create_database("secret_test").replace("@", ":s3cr3t-pw@", 1)
    convert(sample_db, url, tmp_path)
    done = run(command(url, tmdb_server, "--log_level", "INFO"), tmp_path)
    assert done.returncode == 0, done.stderr
    seen = done.stdout + done.stderr + "".join(p.read_text(errors="replace") for p in tmp_path.glob("*.json"))
    assert "s3cr3t-pw" not in seen and "***" in done.stdout


def test_restore_and_convert_work_on_the_json_file_too(tmdb_server, sample_db, tmp_path):
    original = sample_db.read_bytes()
    assert run(command(sample_db, tmdb_server), tmp_path).returncode == 0
    enriched = sample_db.read_bytes()
    listed = run([sys.executable, "-m", "movie_enrichment", "restore", "--input", sample_db, "--list"], tmp_path)
    stamps = [line.split()[0] for line in listed.stdout.splitlines()]
    assert listed.returncode == 0 and len(stamps) == 1, listed.stderr
    done = run([sys.executable, "-m", "movie_enrichment", "restore", "--input", sample_db, "--run", stamps[0]],
               tmp_path)
    assert done.returncode == 0, done.stderr
    assert sample_db.read_bytes() == original, "the file as it was before that run"
    assert any(p.read_bytes() == enriched for p in (sample_db.parent / "backups").glob("*.json")), \
        "and the enriched version is kept as a backup"


def exact(text: bytes):
    """A JSON document (or JSON Lines) as nested pairs and typed numbers: key order, types and values."""
    def typed(value):
        if isinstance(value, list):
            return [typed(v) for v in value]
        if isinstance(value, tuple):
            return tuple(typed(v) for v in value)
        return (type(value).__name__, value)
    lines = [text] if text.lstrip()[:1] in (b"[",) or b"\n{" not in text.strip() else text.splitlines()
    return [typed(json.loads(line, object_pairs_hook=lambda pairs: tuple(pairs))) for line in lines if line.strip()]


@pytest.mark.parametrize("name, body", [
    ("movies.json", b'[\n  {"title": "Heat", "year": 1995},\n  "not a movie",\n  {"title": "Alien", "n": 1.5e300}\n]\n'),
    ("movies.jsonl", b'{"title": "Heat", "year": 1995}\n{"title": "Alien", "big": 123456789012345678901234567890}\n'),
    ("compact.json", b'{"B": {"title": "B", "z": 1, "a": [1, {"y": null}], "f": 2.0}, "A": {"title": "A"}}\n'),
])
def test_convert_keeps_every_record_exactly_in_each_layout(name, body, tmp_path):
    source = tmp_path / name
    source.write_bytes(body)
    url = f"sqlite:///{tmp_path / 'layout.db'}"
    convert(source, url, tmp_path)
    back = tmp_path / ("back" + pathlib.Path(name).suffix)
    convert(url, back, tmp_path)
    assert exact(back.read_bytes()) == exact(body), "keys, order, types and values"
    assert back.read_bytes().lstrip()[:1] == body.lstrip()[:1] and \
        back.read_bytes().count(b"\n") >= body.count(b"\n"), "the same format (array, JSON Lines, object)"


def test_a_file_of_one_record_per_line_comes_back_one_per_line_through_a_store(tmp_path):
    """vega-datasets' layout (`[\n    {...},\n    {...}\n]`), to SQLite and back: the same bytes."""
    body = (b'[\n    {"title": "Heat", "year": 1995, "tags": ["a", "b"]},\n    {"title": "Alien", "year": 1979},\n'
            b'    {"title": "Brazil", "year": 1985}\n]\n')
    source = tmp_path / "movies.json"
    source.write_bytes(body)
    url = f"sqlite:///{tmp_path / 'lines.db'}"
    convert(source, url, tmp_path)
    back = tmp_path / "back.json"
    convert(url, back, tmp_path)
    assert back.read_bytes() == body


def test_restore_of_a_json_file_puts_its_backup_back_byte_for_byte(tmdb_server, tmp_path):
    body = b'[\n    {"title": "Heat", "year": 1995},\n    {"title": "Alien", "year": 1979, "rating": 8.50}\n]\n'
    db = tmp_path / "movies.json"
    db.write_bytes(body)
    done = run(command(db, tmdb_server), tmp_path)
    assert done.returncode == 0, done.stderr
    assert db.read_bytes() != body
    (backup,) = (tmp_path / "backups").iterdir()
    stamp = backup.name.split(".")[1]
    done = run([sys.executable, "-m", "movie_enrichment", "restore", "--input", str(db), "--run", stamp], tmp_path)
    assert done.returncode == 0, done.stderr
    assert db.read_bytes() == body, "8.50 and the one-record-per-line layout come back as they were"
