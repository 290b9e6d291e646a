"""When the final write fails (disk full, permission denied), the previous database stays exactly as it was.

The pipeline runs in-process (`cli.main`, whose default engine runs the DoFns in threads of this process), so
Beam's FileSystems can be patched to fail the way a full disk or a read-only folder does. A last test fills a
real 64 KiB tmpfs, when this machine lets us mount one.
"""

import contextlib
import errno
import logging
import os
import pathlib
import subprocess
import uuid

import orjson
import pytest
from apache_beam.io.filesystems import FileSystems

from movie_enrichment.io import database, files, sink
from movie_enrichment.pipelines import cli, errors
from movie_enrichment.testing import synthetic
from movie_enrichment.testing.tmdb_server import TmdbServer

pytestmark = pytest.mark.slow

KEY = "write-failure-test-key"
MOVIES = 8


@pytest.fixture
def server():
    with TmdbServer(catalog=synthetic.catalog(40), api_key=KEY) as tmdb:
        yield tmdb


@pytest.fixture(autouse=True)
def in_process(monkeypatch, tmp_path):
    """The environment the command expects, and this process's logging put back after `cli.main`."""
    monkeypatch.setenv("TMDB_API_KEY", KEY)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    root = logging.getLogger()
    saved = (root.level, list(root.handlers), logging.getLogger("apache_beam").level)
    yield
    logging.disable(logging.NOTSET)  # main() disables logging process-wide after a fatal error
    root.setLevel(saved[0])
    root.handlers[:] = saved[1]
    logging.getLogger("apache_beam").setLevel(saved[2])


@pytest.fixture
def db(tmp_path) -> pathlib.Path:
    path = tmp_path / "db" / "movies.json"
    path.parent.mkdir()
    path.write_bytes(synthetic.database(MOVIES))
    return path


def enrich(server, db, *extra) -> int:
    """`cli.main` with sys.stderr on file descriptor 2, as in the real command: the launcher points that
    descriptor at a scratch file while the pipeline runs, and capfd reads what reaches it."""
    with open(2, "w", buffering=1, closefd=False) as stderr, contextlib.redirect_stderr(stderr):
        return cli.main(["--input", str(db), "--tmdb_base_url", server.url, "--no_http_cache",
                            "--progress", "off", *map(str, extra)])


def temp_files(folder: pathlib.Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".*.tmp-*"))


def error_line(capfd) -> str:
    """The one line the command leaves on stderr (whether it names the problem is checked apart)."""
    out, err = capfd.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("movie-enrich: error: "), err
    return lines[0]


class _FullDisk:
    """A file handle that takes a first chunk, then fails as a full disk does."""

    def __init__(self, handle, room: int = 4096):
        self._handle, self._room = handle, room

    def write(self, data) -> int:
        if len(data) > self._room:
            self._handle.write(data[: self._room])
            self._handle.flush()
            self._room = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._room -= len(data)
        return self._handle.write(data)

    def close(self):
        self._handle.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _fail_temp_create(monkeypatch, make_error):
    """Patches FileSystems.create for the sink's temporary file only (checkpoints and reports still work)."""
    real = FileSystems.create
    seen = []

    def create(path, *args, **kwargs):
        if ".movies.json.tmp-" in path:
            seen.append(path)
            return make_error(path, lambda: real(path, *args, **kwargs))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(FileSystems, "create", create)
    return seen


def _full_disk(path, open_real):
    return _FullDisk(open_real())


def _no_permission(path, open_real):
    raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)



@pytest.mark.parametrize("failure", [pytest.param(_full_disk, id="ENOSPC"), pytest.param(_no_permission, id="EACCES")])
def test_a_failed_final_write_keeps_the_database_and_leaves_no_temp_file(server, db, monkeypatch, capfd, failure):
    before = db.read_bytes()
    seen = _fail_temp_create(monkeypatch, failure)
    status = enrich(server, db)
    assert seen, "the sink's write was reached"
    assert status == errors.EXIT_FAILED
    assert db.read_bytes() == before, "the previous database is byte-identical"
    assert temp_files(db.parent) == [], "no temporary file is left"
    for backup in (db.parent / "backups").glob("*"):
        assert backup.read_bytes() == before, "a backup is a whole copy"
    error_line(capfd)


@pytest.mark.parametrize("failure, words", [
    pytest.param(_full_disk, "No space left on device", id="ENOSPC"),
    pytest.param(_no_permission, "Permission denied", id="EACCES"),
])
def test_a_failed_final_write_names_the_problem(server, db, monkeypatch, capfd, failure, words):
    _fail_temp_create(monkeypatch, failure)
    assert enrich(server, db) == errors.EXIT_FAILED
    line = error_line(capfd)
    assert "Traceback" not in line and words in line and str(db) in line, line


def test_a_failed_rename_removes_the_complete_temp_file(server, db, monkeypatch, capfd):
    """The temporary file is whole when the rename onto the database is refused (EACCES)."""
    before = db.read_bytes()
    real_rename, refused = os.rename, []

    def rename(source, destination, *args, **kwargs):
        if ".movies.json.tmp-" in str(source):
            refused.append(pathlib.Path(source).stat().st_size)
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(destination))
        return real_rename(source, destination, *args, **kwargs)

    def exchange(a, b):  # where the sink swaps the new file in (Linux) rather than renaming it
        if ".movies.json.tmp-" in str(a):
            refused.append(pathlib.Path(a).stat().st_size)
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(b))
        return False

    monkeypatch.setattr(os, "rename", rename)
    monkeypatch.setattr(files, "exchange", exchange)
    assert enrich(server, db) == errors.EXIT_FAILED
    assert refused and refused[0] > len(before), "the whole new database had been written"
    assert db.read_bytes() == before
    assert temp_files(db.parent) == []
    error_line(capfd)


def test_a_rerun_after_a_failed_write_resumes_without_lookups(server, db, monkeypatch, capfd):
    """The checkpoints outlive a failed write, so the next run writes the same result without a lookup: its one
    request is /configuration, which each process asks once for the image links (nothing is kept from one run
    to the next in the process)."""
    with monkeypatch.context() as patch:
        _fail_temp_create(patch, _full_disk)
        assert enrich(server, db) == errors.EXIT_FAILED
    assert server.counts()["total"] > 0
    server.reset_counts()
    capfd.readouterr()
    assert enrich(server, db) == errors.EXIT_OK
    counts = server.counts()
    assert counts["total"] == counts["by_endpoint"]["configuration"] == 1, \
        ("every lookup came from the checkpoints", counts)
    records = orjson.loads(db.read_bytes()).values()
    assert [r["enrichment"]["metadata"]["status"] for r in records] == ["ok"] * MOVIES
    assert temp_files(db.parent) == []


@pytest.mark.parametrize("failure", [pytest.param(_full_disk, id="ENOSPC"), pytest.param(_no_permission, id="EACCES")])
def test_a_failed_final_write_keeps_the_previous_failures_list(server, db, monkeypatch, capfd, failure):
    """The database still holds the movies that failed last time, so their list must stay with it."""
    listed = db.parent / "movies.json.failures.jsonl"
    previous = b'{"key":"Film 1","enricher":"metadata","error":"HTTP 503","time":"2026-01-01T00:00:00Z"}\n'
    listed.write_bytes(previous)
    seen = _fail_temp_create(monkeypatch, failure)
    assert enrich(server, db) == errors.EXIT_FAILED
    assert seen, "the sink's write was reached"
    assert listed.read_bytes() == previous, "the failures list is replaced only after the database"
    error_line(capfd)


def test_a_completed_write_then_replaces_the_failures_list(server, db, capfd):
    """The same run without the fault: every movie enriched, so the list of the previous run goes."""
    listed = db.parent / "movies.json.failures.jsonl"
    listed.write_bytes(b'{"key":"Film 1","enricher":"metadata","error":"HTTP 503","time":"2026-01-01T00:00:00Z"}\n')
    assert enrich(server, db) == errors.EXIT_OK
    assert not listed.exists()


# --- a real full disk -------------------------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path) -> pathlib.Path:
    """A 64 KiB tmpfs, unmounted at the end; skipped where mounting is not permitted."""
    mount = tmp_path / f"small-{uuid.uuid4().hex[:6]}"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        if subprocess.run(["umount", str(mount)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _fill_db(folder: pathlib.Path, kilobytes: int) -> pathlib.Path:
    """Five films whose notes fill the file up to about `kilobytes`."""
    path = folder / "movies.json"
    path.write_bytes(synthetic.database(5, padding=kilobytes * 1000 // 5))
    return path


def test_a_full_disk_on_the_final_write(server, small_disk, tmp_path, capfd):
    """Database and backups on the small disk, checkpoints elsewhere: the new, larger file does not fit."""
    db = _fill_db(small_disk, 25)
    before = db.read_bytes()
    status = enrich(server, db, "--checkpoint_dir", tmp_path / "checkpoints", "--failures", tmp_path / "f.jsonl",
                    "--report", tmp_path / "report.json")
    assert status == errors.EXIT_FAILED
    assert db.read_bytes() == before
    assert temp_files(small_disk) == []
    backups = [p.read_bytes() for p in (small_disk / "backups").glob("*")]
    # The new file is written first: it did not fit, so no backup was needed; any backup is whole.
    assert all(b == before for b in backups)
    error_line(capfd)


def test_a_full_disk_on_the_backup_copy_leaves_no_partial_backup(server, small_disk, tmp_path, capfd):
    """A 40 KB database on a 64 KiB disk: its backup copy cannot fit."""
    db = _fill_db(small_disk, 40)
    before = db.read_bytes()
    assert 36_000 < len(before) < 60_000
    status = enrich(server, db, "--checkpoint_dir", tmp_path / "checkpoints", "--failures", tmp_path / "f.jsonl",
                    "--report", tmp_path / "report.json")
    assert status == errors.EXIT_FAILED
    assert db.read_bytes() == before
    assert temp_files(small_disk) == []
    partial = [p.name for p in (small_disk / "backups").glob("*") if p.read_bytes() != before]
    assert partial == [], "no truncated backup"
    error_line(capfd)


def test_everything_on_a_full_disk(server, small_disk, capfd):
    """Checkpoints, failures and report beside the database too: whatever fails first, nothing is damaged."""
    db = _fill_db(small_disk, 25)
    before = db.read_bytes()
    assert enrich(server, db) == errors.EXIT_FAILED
    assert db.read_bytes() == before
    assert temp_files(small_disk) == []
    error_line(capfd)


def test_an_unexpected_error_while_writing_is_named_in_its_one_line(server, db, monkeypatch, capfd):
    """Not a disk error: a bug in the serializer. The database is kept and the one line says what went wrong."""
    before = db.read_bytes()

    def serialize(*args, **kwargs):
        raise RuntimeError("serializer exploded on purpose")

    monkeypatch.setattr(database, "serialize_chunks", serialize)
    assert enrich(server, db) == errors.EXIT_FAILED
    assert db.read_bytes() == before and temp_files(db.parent) == []
    # The write step kept its spool for a retry; once the run is over, the launcher removes it.
    assert not os.path.exists(sink.spool_dir_for(str(db)))
    line = error_line(capfd)
    assert "Traceback" not in line and "serializer exploded on purpose" in line, line
