"""The TMDB key never leaks: not on stdout or stderr (at any log level), and not in any file a run leaves.

Two scenarios, one per kind of credential: a v3 API key (sent as the `api_key` parameter) and a v4 read-access
token (a JWT, sent as `Authorization: Bearer`). Each enriches a synthetic database with the HTTP cache on:
  A. a normal run at the default log level;
  B. a run at DEBUG with every request failing (5xx), `--reprocess all --http_retries 1`, on a fresh cache file,
     so that requests really go out, are logged, fail, and a failures file is written;
  C. a run that fails when writing (its backup folder is a file), so its checkpoints stay on disk;
  W. a run with a wrong credential, which must stop with one line that does not echo it;
  F. a run at DEBUG that reads the credential from a file named by TMDB_API_KEY_FILE.
Then stdout, stderr and every file under the test's folder (database, backups, report, failures, checkpoints,
the cache SQLite and any -wal/-shm) are searched for the secret's bytes.
"""

import concurrent.futures
import dataclasses
import pathlib

import pytest
from conftest import Completed, run_cli

from movie_enrichment.testing import synthetic
from movie_enrichment.testing.tmdb_server import Faults, TmdbServer

# Real processes: what a user's terminal and log files get, interpreter warnings included (in this process pytest
# would catch those), two scenarios at once.
pytestmark = pytest.mark.e2e

V3_KEY = "k3y-SECRET-v3-0123456789abcdef"
V4_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJTRUNSRVQtdjQtcmVhZGVyIn0.U0VDUkVULXY0LXNpZ25hdHVyZS0wMTIzNDU2Nzg5"
MOVIES = 30


@dataclasses.dataclass
class Scenario:
    kind: str
    secret: str
    folder: pathlib.Path
    db: pathlib.Path
    runs: dict  # name -> Completed
    requests: dict  # name -> requests the server received
    wrong: str  # the wrong credential of run W


def _scenario(kind: str, folder: pathlib.Path) -> Scenario:
    secret = V3_KEY if kind == "v3" else V4_TOKEN
    db = folder / "db" / "movies.json"
    db.parent.mkdir(parents=True)
    db.write_bytes(synthetic.database(MOVIES))
    server_args = {"api_key": V3_KEY, "bearer_token": None} if kind == "v3" else \
        {"api_key": "some-other-v3-key", "bearer_token": V4_TOKEN}
    runs, requests = {}, {}

    def run(name, *extra, key=secret, env=None):
        before = server.counts()["total"]
        runs[name] = run_cli(["--input", db, "--tmdb_base_url", server.url, "--progress", "off", *extra],
                             folder, key=key, env=env, timeout=120,
                             subprocess=True)
        requests[name] = server.counts()["total"] - before

    with TmdbServer(catalog=synthetic.catalog(MOVIES), **server_args) as server:
        run("A default", "--http_cache", folder / "cache.sqlite")
        server.faults = Faults(error_5xx=1.0)
        run("B debug, failing", "--http_cache", folder / "cache-b.sqlite", "--reprocess", "all",
            "--http_retries", "1", "--log_level", "DEBUG", "--tmdb_down_after", "0")
        server.faults = Faults()
        blocker = folder / "not-a-folder"
        blocker.write_bytes(b"")
        # Its own failures list and checkpoint folder: B's failures stay, and C's checkpoints are not cleared.
        run("C write fails", "--http_cache", folder / "cache.sqlite", "--reprocess", "all", "--backup_dir", blocker,
            "--failures", folder / "c-failures.jsonl", "--checkpoint_dir", folder / "c-checkpoints")
        wrong = "WRONG-" + secret[6:] if kind == "v3" else secret[:-8] + "WRONGWRO"
        run("W wrong key", "--http_cache", folder / "cache-w.sqlite", "--reprocess", "all", key=wrong)
        # The key from a file (outside the searched folder: that file is the one place the key may be).
        secret_file = folder.parent / f"{kind}-key"
        secret_file.write_text(secret + "\n")
        secret_file.chmod(0o600)
        run("F key file, debug", "--http_cache", folder / "cache.sqlite", "--reprocess", "all", "--log_level",
            "DEBUG", "--failures", folder / "f-failures.jsonl", key=None, env={"TMDB_API_KEY_FILE": str(secret_file)})
    return Scenario(kind, secret, folder, db, runs, requests, wrong)


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory) -> dict[str, Scenario]:
    root = tmp_path_factory.mktemp("secrets")
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        return dict(zip(("v3", "v4"), pool.map(lambda k: _scenario(k, root / k), ("v3", "v4"))))


def needles(scenario: Scenario) -> list[bytes]:
    """The secret, and for a token its signature alone (the part that must never be seen)."""
    found = [scenario.secret.encode()]
    if scenario.kind == "v4":
        found.append(scenario.secret.rsplit(".", 1)[1].encode())
    return found


def holders(text: str | bytes, scenario: Scenario) -> list[str]:
    data = text.encode() if isinstance(text, str) else text
    return [n.decode() for n in needles(scenario) if n in data]


KINDS = ["v3", "v4"]


@pytest.mark.parametrize("kind", KINDS)
def test_the_scenario_did_what_it_should(scenarios, kind):
    """Guards the other tests: each run did its part, so that each artifact the greps look for exists."""
    s = scenarios[kind]
    a, b, c, w = (s.runs[n] for n in ("A default", "B debug, failing", "C write fails", "W wrong key"))
    assert a.returncode == 0 and s.requests["A default"] > 0, a.stderr[-2000:]
    # Every lookup of B fails (the server answers 5xx), which is exit status 5 for a scheduler.
    assert b.returncode == 5 and s.requests["B debug, failing"] > 0, b.stderr[-2000:]
    assert "DEBUG" in b.stderr, "the DEBUG run logged"
    assert (s.db.parent / "movies.json.failures.jsonl").exists(), "the failing run wrote its failures"
    assert c.returncode == 1, c.stderr
    checkpoints = s.folder / "c-checkpoints"
    assert checkpoints.is_dir() and any(p.is_file() for p in checkpoints.rglob("*")), "C left its checkpoints"
    assert w.returncode == 1, w.stderr
    f = s.runs["F key file, debug"]
    assert f.returncode == 0 and s.requests["F key file, debug"] > 0 and "DEBUG" in f.stderr, f.stderr[-2000:]
    files = {p.name for p in s.folder.rglob("*") if p.is_file()}
    assert {"cache.sqlite", "cache-b.sqlite", "movies.json", "movies.json.report.json"} <= files
    assert list((s.db.parent / "backups").glob("movies.*Z.json")), "backups exist"


@pytest.mark.parametrize("kind", KINDS)
def test_no_file_left_by_any_run_holds_the_secret(scenarios, kind):
    s = scenarios[kind]
    leaked = {str(p.relative_to(s.folder)): holders(p.read_bytes(), s)
              for p in sorted(s.folder.rglob("*")) if p.is_file()}
    assert len(leaked) >= 8, sorted(leaked)
    assert {name: hit for name, hit in leaked.items() if hit} == {}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("run", ["A default", "C write fails", "W wrong key", "F key file, debug"])
def test_output_at_the_default_log_level_holds_no_secret(scenarios, kind, run):
    s = scenarios[kind]
    done: Completed = s.runs[run]
    assert holders(done.stdout, s) == [] and holders(done.stderr, s) == []


@pytest.mark.parametrize("kind", KINDS)
def test_debug_output_holds_no_secret(scenarios, kind):
    s = scenarios[kind]
    done: Completed = s.runs["B debug, failing"]
    lines = [line[:200] for line in done.stderr.splitlines() if holders(line, s)]
    assert holders(done.stdout, s) == [] and lines == []


@pytest.mark.parametrize("kind", KINDS)
def test_a_wrong_key_stops_in_one_line_that_does_not_echo_it(scenarios, kind):
    s = scenarios[kind]
    done = s.runs["W wrong key"]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "rejected the API key" in lines[0], done.stderr
    assert s.wrong not in done.stderr and s.wrong not in done.stdout
    assert s.wrong[6:20] not in done.stderr, "not even a part of it"
