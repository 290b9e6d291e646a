"""Exit statuses a scheduler can act on: 0 nothing failed, 4 more failures than --max_failures, 5 all failed."""

import socket

import orjson
import pytest
from conftest import API_KEY, DATA, load

from movie_enrichment.pipelines.errors import (
    EXIT_ALL_FAILED,
    EXIT_OK,
    EXIT_SOME_FAILED,
    exit_status_for,
    parse_max_failures,
)
from movie_enrichment.testing.tmdb_server import Faults, TmdbServer

MOVIES = 20


@pytest.mark.parametrize("failed, looked_up, limit, want", [
    (0, 10, "0", EXIT_OK), (0, 0, "0", EXIT_OK), (1, 10, "0", EXIT_SOME_FAILED), (3, 10, "3", EXIT_OK),
    (4, 10, "3", EXIT_SOME_FAILED), (1, 20, "5%", EXIT_OK), (2, 20, "5%", EXIT_SOME_FAILED),
    (10, 10, "100%", EXIT_ALL_FAILED), (9, 10, "100%", EXIT_OK)])
def test_max_failures_count_or_percentage(failed, looked_up, limit, want):
    assert exit_status_for(failed, looked_up, limit) == want


@pytest.mark.parametrize("text", ["-1", "1.5", "101%", "ten", "%"])
def test_bad_max_failures_is_refused(text):
    with pytest.raises(ValueError, match="--max_failures"):
        parse_max_failures(text)


@pytest.fixture
def small_db(tmp_path):
    movies = dict(list(load(DATA / "sample_movies.json").items())[:MOVIES])
    path = tmp_path / "movies.json"
    path.write_bytes(orjson.dumps(movies))
    return path


def args(url, db, *extra):
    return ["--input", db, "--tmdb_base_url", url, "--no_http_cache", "--progress", "off", "--enrich", "metadata",
            "--max_requests_per_second", "0", "--http_retries", "0", *extra]


@pytest.mark.e2e  # the exit status of a real process
def test_all_lookups_failing_exits_5(small_db, tmp_path, cli):
    """Also when the database holds records without a usable title: they make no request, so they are not
    lookups that succeeded (the bundled sample has a few, and TMDB down exited 4 on it)."""
    movies = load(small_db)
    movies.update({"Untitled draft": {"title": ""}, "missing-title-1999": {"title": None, "year": 1999}})
    small_db.write_bytes(orjson.dumps(movies))
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    argv = args(f"http://127.0.0.1:{port}/3", small_db, "--http_timeout", "2", "--max_failures", "5%",
                "--report", tmp_path / "r.json", "--tmdb_down_after", "0")
    argv[argv.index("--enrich") + 1] = "metadata,images"  # both enrichers, as a schedule runs them
    done = cli(argv)
    assert done.returncode == EXIT_ALL_FAILED, done.stderr
    assert f"{MOVIES} of {MOVIES} movies failed (every lookup failed; exit status 5)" in done.stderr
    report = load(tmp_path / "r.json")
    assert report["exit_status"] == EXIT_ALL_FAILED
    assert report["enrichers"]["metadata"]["invalid"] == 2 and report["movies_failed"] == MOVIES


@pytest.mark.slow
def test_some_failures_exit_4_unless_max_failures_allows_them(small_db, tmp_path, cli):
    original = small_db.read_bytes()
    with TmdbServer(api_key=API_KEY, faults=Faults(error_5xx=0.2)) as server:
        done = cli(args(server.url, small_db, "--report", tmp_path / "r.json"))
        report = load(tmp_path / "r.json")
        assert 0 < report["movies_failed"] < MOVIES, report
        assert done.returncode == EXIT_SOME_FAILED, done.stderr
        assert report["exit_status"] == EXIT_SOME_FAILED
        assert "more movies failed than --max_failures 0 allows" in done.stderr
        assert "--reprocess failed" in done.stderr

        small_db.write_bytes(original)
        allowed = cli(args(server.url, small_db, "--max_failures", "99%", "--report", tmp_path / "r2.json"))
        assert 0 < load(tmp_path / "r2.json")["movies_failed"] < MOVIES
        assert allowed.returncode == EXIT_OK, allowed.stderr
        assert "failed" not in allowed.stderr


def test_clean_run_exits_0_and_help_documents_every_status(small_db, tmdb_server, cli):
    done = cli(args(tmdb_server.url, small_db))
    assert done.returncode == EXIT_OK, done.stderr
    helped = cli(["--help"])
    text = " ".join(helped.stdout.split())
    for status in ("0 completed", "1 a fatal", "2 a bad option", "3 another run", "4 completed and written",
                   "5 completed, but every lookup failed", "130 stopped by Ctrl-C or SIGTERM", "--max_failures"):
        assert status in text, status
    bad = cli(args(tmdb_server.url, small_db, "--max_failures", "ten"))
    assert bad.returncode == 2 and "--max_failures" in bad.stderr


def test_the_command_exits_with_mains_status_and_leaves_the_heap_to_the_os(monkeypatch):
    import gc

    from movie_enrichment import cli as front

    monkeypatch.setattr(front, "main", lambda: EXIT_SOME_FAILED)
    assert gc.get_freeze_count() == 0
    try:
        with pytest.raises(SystemExit) as stopped:
            front.command()
        # Frozen: the interpreter's exit does not collect them (a measured second or more after a run).
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    assert stopped.value.code == EXIT_SOME_FAILED
