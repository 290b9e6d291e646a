"""The TMDB key from a file (`--tmdb_api_key_file`, TMDB_API_KEY_FILE), the order of the key's sources, and a
wrong key that the HTTP cache never hides."""

import os
import pathlib
import socket

import pytest
from conftest import API_KEY, DATA, owned, tree

from movie_enrichment.io import keyfile
from movie_enrichment.testing.tmdb_server import TmdbServer


def key_file(folder: pathlib.Path, text: str = API_KEY + "\n", mode: int = 0o600, name: str = "tmdb_key"):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


# -- reading the file ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [API_KEY + "\n", API_KEY, API_KEY + "\r\n", "  " + API_KEY + "\n\n",
                                  "\ufeff" + API_KEY + "\n"])
def test_the_key_is_read_without_its_newline(tmp_path, text):
    assert keyfile.read_key_file(str(key_file(tmp_path, text))) == API_KEY


@pytest.mark.parametrize("mode, who", [(0o644, "group and others"), (0o604, "others"), (0o640, "its group"),
                                       (0o444, "group and others")])
def test_a_file_others_can_read_is_refused_naming_its_mode_and_the_fix(tmp_path, mode, who):
    path = key_file(tmp_path, mode=mode)
    with pytest.raises(keyfile.KeyFileError) as caught:
        keyfile.read_key_file(str(path))
    message = str(caught.value)
    assert f"readable by {who} (mode {mode:04o})" in message and f"chmod 600 {path}" in message
    assert API_KEY not in message and "\n" not in message


@pytest.mark.parametrize("mode", [0o600, 0o400, 0o700])
def test_a_file_only_its_owner_reads_is_accepted(tmp_path, mode):
    assert keyfile.read_key_file(str(key_file(tmp_path, mode=mode))) == API_KEY


@pytest.mark.parametrize("text, problem", [("", "the file is empty"), ("\n \n", "the file is empty"),
                                           (API_KEY + "\nsecond line\n", "more than the key"),
                                           ("x" * (keyfile.MAX_BYTES + 1), "too big to be a TMDB key")])
def test_a_file_that_holds_no_single_key_is_refused(tmp_path, text, problem):
    with pytest.raises(keyfile.KeyFileError, match=problem):
        keyfile.read_key_file(str(key_file(tmp_path, text)))


def test_missing_folder_and_non_utf8_files_are_refused(tmp_path):
    with pytest.raises(keyfile.KeyFileError, match=r"--tmdb_api_key_file .*missing: no such file"):
        keyfile.read_key_file(str(tmp_path / "missing"))
    with pytest.raises(keyfile.KeyFileError, match="is a folder"):
        keyfile.read_key_file(str(tmp_path))
    path = tmp_path / "latin1"
    path.write_bytes(b"cl\xe9\n")
    path.chmod(0o600)
    with pytest.raises(keyfile.KeyFileError, match="not UTF-8"):
        keyfile.read_key_file(str(path))


def _read_as(uid: int | None, path: pathlib.Path) -> str:
    """read_key_file's message, from a forked child that first becomes `uid` (None: stays who it is)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no exec, so the loaded modules serve as they are
        try:
            os.close(read_end)
            if uid is not None:
                os.setgid(uid)
                os.setuid(uid)
            try:
                keyfile.read_key_file(str(path))
                message = "read"
            except keyfile.KeyFileError as error:
                message = str(error)
            os.write(write_end, message.encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        message = pipe.read().decode()
    os.waitpid(pid, 0)
    return message


def test_a_file_this_user_may_not_read_is_refused(tmp_path):
    path = key_file(tmp_path)
    if os.geteuid() == 0:  # root reads everything: the same read, by an unprivileged user
        tmp_path.chmod(0o755)
        path.chmod(0o600)
        message = _read_as(65534, path)
    else:
        path.chmod(0)
        message = _read_as(None, path)
    assert message == f"--tmdb_api_key_file {path}: not readable by this user (permission denied)"


def test_a_socket_that_cannot_be_opened_is_one_line(tmp_path):
    path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        with pytest.raises(keyfile.KeyFileError, match=r"^--tmdb_api_key_file .*: cannot be opened: "):
            keyfile.read_key_file(str(path))


# -- where the key comes from ----------------------------------------------------------------------------------

def test_the_command_line_wins_then_the_environment(tmp_path):
    path = str(key_file(tmp_path))
    env = {"TMDB_API_KEY": "from-env"}
    assert keyfile.choose("given", None, env).read() == "given"
    assert keyfile.choose(None, path, env).read() == API_KEY
    assert keyfile.choose(None, None, env).read() == "from-env"
    source = keyfile.choose(None, None, {"TMDB_API_KEY_FILE": path})
    assert source.read() == API_KEY and source.describe() == f"TMDB_API_KEY_FILE ({path})"
    assert keyfile.choose(None, None, {}).read() is None
    assert keyfile.choose("given", None, {"TMDB_API_KEY_FILE": path}).read() == "given"


def test_both_forms_at_one_level_is_an_error_since_one_would_be_ignored(tmp_path):
    with pytest.raises(keyfile.KeyFileError, match="--tmdb_api_key and --tmdb_api_key_file both"):
        keyfile.choose("k", "f", {})
    with pytest.raises(keyfile.KeyFileError, match="TMDB_API_KEY and TMDB_API_KEY_FILE are both set"):
        keyfile.choose(None, None, {"TMDB_API_KEY": "k", "TMDB_API_KEY_FILE": "f"})


# -- the command ------------------------------------------------------------------------------------------------

@pytest.fixture
def db(sample_db) -> pathlib.Path:
    return sample_db


def _args(server, db, *extra):
    return ["--input", db, "--tmdb_base_url", server.url, "--progress", "off", "--max_requests_per_second", "0",
            "--http_cache", db.parent.parent / "cache.sqlite", *extra]


@pytest.mark.slow
def test_a_run_reads_its_key_from_the_file_the_option_or_the_variable_names(tmp_path, db, tmdb_server, cli):
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    path = key_file(secrets)
    by_option = cli(_args(tmdb_server, db, "--tmdb_api_key_file", path), key=None)
    assert by_option.returncode == 0, by_option.stderr
    db.write_bytes((DATA / "sample_movies.json").read_bytes())
    by_variable = cli(_args(tmdb_server, db, "--reprocess", "all"), key=None, env={"TMDB_API_KEY_FILE": str(path)})
    assert by_variable.returncode == 0, by_variable.stderr
    assert '"ok"' in db.read_text()


@pytest.mark.parametrize("mode, status, message", [
    (0o644, 1, "{path}: readable by group and others (mode 0644), which gives the key away: run chmod 600 {path}"),
    (None, 1, "{path}: no such file"),
])
def test_a_bad_key_file_stops_the_run_in_one_line_before_anything_is_written(tmp_path, db, tmdb_server, cli, mode,
                                                                             status, message):
    path = key_file(tmp_path, mode=mode or 0o600)
    if mode is None:
        path.unlink()
    before = tree(db.parent)
    done = cli(_args(tmdb_server, db), key=None, env={"TMDB_API_KEY_FILE": str(path)})
    assert done.returncode == status
    assert done.stderr == f"movie-enrich: error: TMDB_API_KEY_FILE {message.format(path=path)}\n"
    assert tree(db.parent) == before and tmdb_server.counts()["total"] == 0


@pytest.mark.slow
def test_a_key_and_a_key_file_together_is_a_usage_error(tmp_path, db, tmdb_server, cli):
    done = cli(_args(tmdb_server, db, "--tmdb_api_key_file", key_file(tmp_path)))  # TMDB_API_KEY is set too
    assert done.returncode == 0, "the command line wins over the environment"
    both = cli(_args(tmdb_server, db, "--tmdb_api_key", API_KEY, "--tmdb_api_key_file", key_file(tmp_path)))
    assert both.returncode == 2 and "--tmdb_api_key and --tmdb_api_key_file both give the key" in both.stderr


@pytest.mark.slow
def test_a_wrong_key_is_found_before_any_cached_answer_is_trusted(tmp_path, db, cli):
    """A warm cache: a wrong key still stops the run (exit 1, one line, nothing written) at one request, and a
    right key costs at most one request more than the cache answers."""
    original = db.read_bytes()
    wrong = key_file(tmp_path, "WRONG-key-0123456789\n", name="wrong")
    with TmdbServer(api_key=API_KEY) as server:
        first = cli(_args(server, db), key=None, env={"TMDB_API_KEY_FILE": str(key_file(tmp_path))})
        assert first.returncode == 0 and server.counts()["total"] > 10, first.stderr
        enriched = owned(tree(db.parent))
        server.reset_counts()  # the case: a wrong key in the variable, a refresh of an enriched database
        done = cli(_args(server, db, "--reprocess", "all"), key="wrong")
        assert (done.returncode, done.stderr) == (1, "movie-enrich: error: TMDB rejected the API key (HTTP 401): "
                                                     "check the key given by TMDB_API_KEY\n")
        assert server.counts()["total"] <= 1 and owned(tree(db.parent)) == enriched
        db.write_bytes(original)  # the same movies again: every answer is in the cache now
        before = owned(tree(db.parent))
        for extra in ((), ("--reprocess", "all")):
            server.reset_counts()
            done = cli(_args(server, db, *extra), key=None, env={"TMDB_API_KEY_FILE": str(wrong)})
            assert done.returncode == 1, done.stderr
            assert done.stderr == ("movie-enrich: error: TMDB rejected the API key (HTTP 401): check the key "
                                   f"given by TMDB_API_KEY_FILE ({wrong})\n")
            assert server.counts()["total"] <= 1, server.counts()
            assert owned(tree(db.parent)) == before, "nothing written"
        server.reset_counts()
        right = cli(_args(server, db, "--report", tmp_path / "report.json"), key=API_KEY)
        assert right.returncode == 0, right.stderr
        assert server.counts()["total"] <= 1, server.counts()
        assert '"cache_hits": 0' not in (tmp_path / "report.json").read_text()
