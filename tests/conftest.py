"""Shared fixtures: the bundled local TMDB server, the sample database, and running the real command."""

import dataclasses
import os
import pathlib
import shutil
import subprocess
import sys

import orjson
import pytest

from movie_enrichment.testing.tmdb_server import TmdbServer

DATA = pathlib.Path(__file__).resolve().parents[1] / "movie_enrichment" / "testing" / "data"
API_KEY = "test-api-key"


@dataclasses.dataclass
class Completed:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def tmdb_server():
    with TmdbServer(api_key=API_KEY) as server:
        yield server


@pytest.fixture
def sample_db(tmp_path) -> pathlib.Path:
    path = tmp_path / "db" / "movies.json"
    path.parent.mkdir()
    shutil.copy(DATA / "sample_movies.json", path)
    return path


@pytest.fixture
def expected() -> dict:
    return orjson.loads((DATA / "sample_expected.json").read_bytes())


def run_cli(args, tmp_path, env=None, timeout=300, key=API_KEY) -> Completed:
    """Runs `python -m movie_enrichment` as a user would, with its own cache folder under tmp_path."""
    environment = {k: v for k, v in os.environ.items() if k not in ("TMDB_API_KEY", "TMDB_API_KEY_FILE")}
    environment["XDG_CACHE_HOME"] = str(tmp_path / "xdg-cache")
    if key:
        environment["TMDB_API_KEY"] = key
    environment.update(env or {})
    done = subprocess.run([sys.executable, "-m", "movie_enrichment", *map(str, args)], env=environment,
                          capture_output=True, text=True, timeout=timeout)
    return Completed(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def cli(tmp_path):
    return lambda args, **kw: run_cli(args, tmp_path, **kw)


def load(path) -> dict:
    return orjson.loads(pathlib.Path(path).read_bytes())


def tree(folder) -> dict:
    """Every file under a folder with its bytes, to prove that nothing changed."""
    folder = pathlib.Path(folder)
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def owned(files: dict) -> dict:
    """A `tree()` without the run's own bookkeeping (its lock and its progress file): what the user owns."""
    return {k: v for k, v in files.items() if not k.endswith((".lock", ".lock.holder", ".progress.json"))}


# -- database stores -------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server of the suite's own on 127.0.0.1, for the whole session.

    Skipped only where the server binaries are missing, and never when ME_REQUIRE_POSTGRES=1 (set by .ci/run),
    where a missing server fails the tests instead.
    """
    from movie_enrichment.testing.postgres import PostgresUnavailable, running_server
    try:
        server = running_server()
        started = server.__enter__()
    except PostgresUnavailable as error:
        if os.environ.get("ME_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"ME_REQUIRE_POSTGRES=1 but {error}")
        pytest.skip(str(error))
    try:
        yield started
    finally:
        server.__exit__(None, None, None)


_DATABASES = iter(range(1, 10 ** 6))


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """A fresh, empty database store URL: a SQLite file, or a new database on the suite's PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'movies.db'}"
    server = request.getfixturevalue("postgres_server")
    return server.create_database(f"test_{os.getpid()}_{next(_DATABASES)}")
