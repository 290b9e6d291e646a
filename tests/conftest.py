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
    environment = {k: v for k, v in os.environ.items() if k != "TMDB_API_KEY"}
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
