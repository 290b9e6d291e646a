"""Shared fixtures: the bundled local TMDB server, the sample database, running the command (in this process, or
as a real process where that is the point), and the tiers of the suite (markers, see pytest.ini)."""

import collections
import contextlib
import dataclasses
import logging
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

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


# -- running the command ---------------------------------------------------------------------------------------

def run_cli(args, tmp_path, env=None, timeout=300, key=API_KEY, subprocess=False) -> Completed:
    """Runs the `movie-enrich` command with its own cache folder under tmp_path, the key in TMDB_API_KEY (none
    with key=None) and `env` on top of this process's environment.

    By default in this process (`cli.main(argv)`, with stdout and stderr captured at the descriptor level), which
    spares a new interpreter starting and importing Apache Beam (0.5-1 s a run). subprocess=True runs
    `python -m movie_enrichment` as a user would: for what only a real process shows (its exit code as the console
    script, a crash, a signal, a lock held by another process, the interpreter's own start-up output).
    """
    environment = {k: v for k, v in os.environ.items() if k not in ("TMDB_API_KEY", "TMDB_API_KEY_FILE")}
    environment["XDG_CACHE_HOME"] = str(tmp_path / "xdg-cache")
    if key:
        environment["TMDB_API_KEY"] = key
    environment.update(env or {})
    argv = [str(arg) for arg in args]
    if subprocess:
        return _in_a_process(argv, environment, timeout)
    return _in_this_process(argv, environment)


def _in_a_process(argv: list[str], environment: dict, timeout: float) -> Completed:
    done = subprocess.run([sys.executable, "-m", "movie_enrichment", *argv], env=environment,
                          capture_output=True, text=True, timeout=timeout)
    return Completed(done.returncode, done.stdout, done.stderr)


def _in_this_process(argv: list[str], environment: dict) -> Completed:
    if threading.current_thread() is not threading.main_thread():
        # The environment, descriptors 1 and 2 and signal handlers belong to the whole process.
        raise RuntimeError("run_cli runs in this process only from the main thread: pass subprocess=True")
    from movie_enrichment.cli import main
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        with _environment(environment), _process_state(), _captured(out, err):
            try:
                status = main(argv)
            except SystemExit as stop:  # argparse's usage errors
                if isinstance(stop.code, str):
                    print(stop.code, file=sys.stderr)
                    status = 1
                else:
                    status = stop.code or 0
        return Completed(status, _text(out), _text(err))


def _text(handle) -> str:
    handle.seek(0)
    return handle.read().decode("utf-8", "replace").replace("\r\n", "\n")


@contextlib.contextmanager
def _environment(environment: dict):
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(environment)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _captured(out, err):
    """Descriptors 1 and 2, and sys.stdout and sys.stderr on them, into two files: the command also writes to
    the real descriptor 2 (pipelines/process.py `say`, `stderr_aside`), as a subprocess's pipes would get it."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved_fds = os.dup(1), os.dup(2)
    saved_streams = sys.stdout, sys.stderr
    os.dup2(out.fileno(), 1)
    os.dup2(err.fileno(), 2)
    sys.stdout = open(1, "w", encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False, buffering=1)  # noqa: SIM115
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr, *saved_streams):
            with contextlib.suppress(ValueError, OSError):
                stream.flush()
        sys.stdout, sys.stderr = saved_streams
        os.dup2(saved_fds[0], 1)
        os.dup2(saved_fds[1], 2)
        for fd in saved_fds:
            os.close(fd)


@contextlib.contextmanager
def _process_state():
    """What the command sets on its process, put back afterwards: the logging setup (`logging.basicConfig(force=
    True)` replaces the root's handlers, `--log_level` sets levels), SIGINT and SIGTERM handlers, and the
    per-process registries and caches a fresh process would not have."""
    root = logging.getLogger()
    handlers, disabled = list(root.handlers), logging.root.manager.disable
    levels = {name: logger.level for name, logger in [("", root), *logging.root.manager.loggerDict.items()]
              if isinstance(logger, logging.Logger)}
    in_main = threading.current_thread() is threading.main_thread()
    signals = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)} if in_main else {}
    _forget_per_process_state()
    try:
        yield
    finally:
        _forget_per_process_state()
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
                handler.close()
        for handler in handlers:
            if handler not in root.handlers:
                root.addHandler(handler)
        for name, level in levels.items():
            (logging.getLogger(name) if name else root).setLevel(level)
        logging.disable(disabled)
        for sig, handler in signals.items():
            signal.signal(sig, handler)


def _forget_per_process_state() -> None:
    """What a new process starts without: kept between in-process runs, the key verdicts would let a run skip its
    key check, the breaker would remember the previous run's outage, and a cache file would stay open."""
    from movie_enrichment.io import response_cache
    from movie_enrichment.io.tmdb import state
    state.forget_process_state()
    for cache in list(response_cache._CACHES.values()):  # pylint: disable=protected-access
        cache.flush()  # what the run queued, as a process's exit would (the launcher flushes it already)
    response_cache._CACHES.clear()  # pylint: disable=protected-access


@pytest.fixture
def cli(tmp_path, request):
    """run_cli bound to this test's folder; in a real process for a test marked `e2e`."""
    real = request.node.get_closest_marker("e2e") is not None
    return lambda args, **kw: run_cli(args, tmp_path, **{"subprocess": real, **kw})


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


# -- tiers (pytest.ini's markers; ./run_tests.sh --quick leaves out e2e, slow, postgres and browser) ------------

# Fixtures that start a real process (the console's server) or a browser.
_E2E_FIXTURES = ("console",)


@pytest.hookimpl(tryfirst=True)  # before pytest's -m deselects by these markers
def pytest_collection_modifyitems(items):
    for item in items:
        names = getattr(item, "fixturenames", ())
        params = getattr(getattr(item, "callspec", None), "params", {})
        if any(fixture in names for fixture in _E2E_FIXTURES):
            item.add_marker(pytest.mark.e2e)
        if "postgres_server" in names or params.get("store_url") == "postgresql":
            item.add_marker(pytest.mark.postgres)
        if "browser" in names:
            item.add_marker(pytest.mark.browser)
    # pytest-xdist (--dist loadfile) hands out whole files (`pytest_xdist_make_scheduler` below), in this order: the
    # heaviest first, so that no long file starts last while the other workers idle. The order within a file stays
    # as written. A file's weight: its tests that start real runs count, those of PostgreSQL apart (their own unit).
    weight = collections.Counter(_unit(item.nodeid) for item in items
                                 if any(item.get_closest_marker(m) for m in ("e2e", "slow", "postgres", "browser")))
    items.sort(key=lambda item: -weight[_unit(item.nodeid)])


def _unit(nodeid: str) -> str:
    """The unit of work a test goes to a worker in: its file, or its file's PostgreSQL half (a store test runs
    once per backend, and one file of both halves was the suite's longest unit)."""
    file = nodeid.split("::", 1)[0]
    return file + "[postgresql]" if "[postgresql" in nodeid or "-postgresql" in nodeid else file


def pytest_xdist_make_scheduler(config, log):
    """--dist loadfile by `_unit`, in the order collected (heaviest first, `pytest_collection_modifyitems`): xdist's
    own reorder by the number of tests in a file put files of three long tests last."""
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling  # pylint: disable=import-outside-toplevel

    class HeaviestFirst(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _unit(nodeid)

    config.option.loadscopereorder = False
    return HeaviestFirst(config, log)
