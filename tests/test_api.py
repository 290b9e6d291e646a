"""The launch API (movie_enrichment.launch) from a script and from an asyncio app, against the local server."""

import asyncio
import json
import os
import tempfile
import time

import pytest
from conftest import API_KEY, load, run_cli, tree

import movie_enrichment
from movie_enrichment import api
from movie_enrichment.io import progress
from movie_enrichment.testing.tmdb_server import TmdbServer

PHASE_ORDER = {p: i for i, p in enumerate(progress.PHASES)}


@pytest.fixture
def slow_server():
    # 20 ms a request: the 200-movie sample takes several seconds at 40 requests/s, long enough to watch.
    with TmdbServer(api_key=API_KEY, latency_ms=20) as server:
        yield server


@pytest.fixture
def options(tmp_path, monkeypatch):
    monkeypatch.delenv("TMDB_API_KEY", raising=False)
    return lambda server, **more: {"tmdb_api_key": API_KEY, "tmdb_base_url": server.url, "no_http_cache": True,
                                   "batch_size": 10, "max_requests_per_second": 40,
                                   "env": {"XDG_CACHE_HOME": str(tmp_path / "xdg")}, **more}


def watch(run: api.Run, until=lambda p: False, interval: float = 0.1) -> list[dict]:
    """Polls progress() until the run ends or `until(progress)` holds; returns every reading."""
    seen = []
    while True:
        figures = run.progress()
        seen.append(figures)
        if run.state in api.ENDED or until(figures):
            return seen
        time.sleep(interval)


def assert_rises(seen: list[dict]) -> None:
    phases = [PHASE_ORDER[p["phase"]] for p in seen]
    assert phases == sorted(phases), [p["phase"] for p in seen]
    done = [p["movies_done"] for p in seen]
    assert done == sorted(done), done


@pytest.mark.parametrize("bad", [
    {"reprocess": "bogus"},
    {"colour": "red"},
    {"reprocess": "stale", "stale_after": 0},  # without --stale_after, stale refreshes by the film's age (issue 25)
    {"max_concurrency": 0},
    {"log_level": "LOUD"},
    {"tmdb_api_key": None},
    {"input": "missing.json"},
    {"output": "no/such/folder/out.json"},
])
def test_bad_option_raises_the_command_lines_one_line_and_starts_nothing(bad, sample_db, tmdb_server, tmp_path,
                                                                        monkeypatch):
    monkeypatch.delenv("TMDB_API_KEY", raising=False)
    monkeypatch.chdir(sample_db.parent)
    given = {"input": str(sample_db), "tmdb_api_key": API_KEY, "tmdb_base_url": tmdb_server.url, **bad}
    before = tree(sample_db.parent)

    with pytest.raises(api.OptionError) as checked:
        movie_enrichment.check_options(**given)
    with pytest.raises(api.OptionError) as raised:
        movie_enrichment.launch(**given)

    assert str(checked.value) == str(raised.value) and checked.value.status == raised.value.status
    assert isinstance(raised.value, ValueError)
    assert tree(sample_db.parent) == before, "nothing written, no progress file, no lock"
    assert tmdb_server.counts()["total"] == 0
    key = given.pop("tmdb_api_key")
    args = [a for name, value in given.items() for a in (f"--{name}", str(value))]
    monkeypatch.chdir(sample_db.parent)
    done = run_cli(args, tmp_path, key=key)
    assert done.stderr.strip() == f"movie-enrich: error: {raised.value}"
    assert raised.value.status == done.returncode


def test_check_options_says_where_a_run_would_write_and_leaves_nothing_behind(sample_db, tmdb_server, tmp_path,
                                                                             monkeypatch):
    monkeypatch.delenv("TMDB_API_KEY", raising=False)
    monkeypatch.chdir(sample_db.parent)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "scratch"))
    (tmp_path / "scratch").mkdir()
    before = tree(sample_db.parent)

    places = movie_enrichment.check_options(sample_db.name, output="out.json", titles=["Alien", "Heat"],
                                            tmdb_base_url=tmdb_server.url, env={"TMDB_API_KEY": API_KEY})

    out = str(sample_db.parent / "out.json")
    assert places == {"input": str(sample_db), "output": out, "progress_file": out + ".progress.json",
                      "report_file": out + ".report.json"}
    assert tree(sample_db.parent) == before
    assert list((tmp_path / "scratch").iterdir()) == [], "the --titles file's folder is removed"
    assert tmdb_server.counts()["total"] == 0
    with pytest.raises(api.OptionError, match="key"):  # without a key anywhere, the command line's line
        movie_enrichment.check_options(sample_db.name, tmdb_base_url=tmdb_server.url)


@pytest.mark.e2e  # launches a real run
def test_a_key_file_reaches_the_run_which_reads_it_itself(sample_db, tmdb_server, options, tmp_path, monkeypatch):
    secret = tmp_path / "secret"
    secret.mkdir()
    key_file = secret / "tmdb_key"
    key_file.write_text(API_KEY + "\n")
    key_file.chmod(0o600)
    given = {**options(tmdb_server), "enrich": "metadata", "tmdb_api_key": None}
    monkeypatch.setenv("TMDB_API_KEY", "a-stale-key-from-elsewhere")  # the file given here wins over it
    run = movie_enrichment.launch(str(sample_db), tmdb_api_key_file=key_file, **given)
    assert run.wait(timeout=120) == "succeeded", run.log()
    assert run.report()["enrichers"]["metadata"]["ok"] > 0
    shown = json.dumps(run.to_dict()) + run.log() + json.dumps(run.progress())
    assert API_KEY not in shown and API_KEY not in " ".join(run.argv)

    places = movie_enrichment.check_options(str(sample_db), tmdb_api_key_file=key_file, tmdb_base_url=tmdb_server.url)
    assert places["output"] == str(sample_db)
    key_file.chmod(0o644)
    with pytest.raises(api.OptionError, match="readable by group and others"):
        movie_enrichment.check_options(str(sample_db), tmdb_api_key_file=key_file, tmdb_base_url=tmdb_server.url)
    with pytest.raises(api.OptionError) as raised:
        movie_enrichment.launch(str(sample_db), tmdb_api_key_file=key_file, **given)
    assert str(raised.value) == (f"--tmdb_api_key_file {key_file}: readable by group and others (mode 0644), "
                                 f"which gives the key away: run chmod 600 {key_file}")
    assert raised.value.status == 1
    with pytest.raises(api.OptionError, match="both give the key") as raised:
        movie_enrichment.launch(str(sample_db), tmdb_api_key_file=key_file, **{**given, "tmdb_api_key": API_KEY})
    assert raised.value.status == 2


@pytest.mark.e2e  # launches a real run
def test_a_list_of_titles_and_of_enrichers_become_the_options_files(sample_db, tmdb_server, options):
    keys = list(load(sample_db))[:3]
    run = movie_enrichment.launch(str(sample_db), titles=keys, enrich=["metadata"], **options(tmdb_server))

    assert run.wait(timeout=120) == "succeeded", run.log()
    report = run.report()
    assert set(report["enrichers"]) == {"metadata"}
    after = load(sample_db)
    enriched = [k for k, record in after.items() if isinstance(record, dict) and "enrichment" in record]
    assert set(keys) <= set(enriched) and len(enriched) < 10, "only the listed keys (or titles)"
    assert report["movies_looked_up"] == len(enriched)
    assert all(set(after[k]["enrichment"]) == {"metadata"} for k in enriched)


@pytest.mark.e2e  # launches a real run
def test_script_launches_a_run_and_watches_progress_rise_to_done(sample_db, slow_server, options):
    started = time.monotonic()
    run = movie_enrichment.launch(str(sample_db), **options(slow_server))
    returned = time.monotonic() - started
    assert run.state in ("queued", "running")
    assert returned < 5, "launch returns at once"
    with open(f"/proc/{run.pid}/cmdline", "rb") as handle:
        assert API_KEY.encode() not in handle.read(), "the key never reaches the command line"

    seen = watch(run)
    assert run.wait(timeout=120) == "succeeded", run.log()

    assert_rises(seen)
    assert {"enriching", "done"} <= {p["phase"] for p in seen}
    assert any(0 < p["movies_done"] < p["movies_selected"] for p in seen), "progress seen mid-run"
    last = run.progress()
    assert last["phase"] == "done" and last["state"] == "succeeded" and last["final"]
    assert last["movies_done"] == last["movies_selected"] == 200
    assert run.returncode == 0 and run.error is None
    report = run.report()
    assert report["run_id"] == run.id
    assert report["movies_looked_up"] == 200
    assert last["requests"] == report["requests"]
    record = json.dumps(run.to_dict())
    assert API_KEY not in record
    assert json.loads(record)["report"]["movies_looked_up"] == 200


@pytest.mark.e2e  # launches a real run
def test_cancel_mid_run_keeps_the_database_whole_and_a_rerun_finishes_the_rest(sample_db, slow_server, options,
                                                                              expected):
    original = sample_db.read_bytes()
    run = movie_enrichment.launch(str(sample_db), **options(slow_server))
    folder = str(sample_db) + ".checkpoints"
    # Cancelled once some batches are checkpointed: the wind-down keeps finished batches and drops the ones it cuts
    # short (their movies are looked up again by the rerun).
    watch(run, until=lambda p: p["movies_done"] >= 40 and os.path.isdir(folder) and len(os.listdir(folder)) >= 2)
    assert run.state == "running"

    assert run.cancel() is True
    assert run.wait(timeout=60) == "cancelled", run.log()

    assert run.returncode == 130
    assert run.error is None
    assert sample_db.read_bytes() == original, "the database is the old file"
    cancelled = run.progress()
    assert cancelled["phase"] == "cancelled" and cancelled["final"]
    assert 40 <= cancelled["movies_done"] < 200
    assert run.report() is None
    assert run.cancel() is False, "an ended run cannot be cancelled"
    checkpointed = len(os.listdir(folder))
    assert checkpointed >= 2

    slow_server.reset_counts()
    rerun = movie_enrichment.launch(str(sample_db), **options(slow_server))
    assert rerun.id != run.id
    assert rerun.wait(timeout=120) == "succeeded", rerun.log()
    report = rerun.report()
    assert report["movies_resumed_from_checkpoints"] >= 10 * checkpointed
    assert report["movies_looked_up"] == 200 - report["movies_resumed_from_checkpoints"]
    after = load(sample_db)
    for key, want in expected.items():
        status = after[key]["enrichment"]["metadata"]["status"]
        got = after[key]["tmdb"]["id"] if status == "ok" else status
        assert got == want or status in ("not_found", "ambiguous"), key


@pytest.mark.e2e  # launches a real run
def test_asyncio_app_launches_cancels_and_resumes_without_blocking_its_loop(sample_db, slow_server, options):
    original = sample_db.read_bytes()

    async def app():
        ticks: list[float] = []
        stop = asyncio.Event()

        async def heartbeat():  # what a web server's other requests would see
            while not stop.is_set():
                ticks.append(time.monotonic())
                await asyncio.sleep(0.05)

        async def follow(run, until=lambda p: False):
            seen = []
            while run.state not in api.ENDED and not until(seen[-1] if seen else run.progress()):
                seen.append(run.progress())
                await asyncio.sleep(0.2)
            return seen

        beating = asyncio.create_task(heartbeat())
        first = await movie_enrichment.launch_async(str(sample_db), **options(slow_server))
        before_cancel = await follow(first, until=lambda p: p["movies_done"] >= 40)
        first.cancel()
        cancelled = await first.wait_async(timeout=60)
        unchanged = sample_db.read_bytes() == original
        rerun = await movie_enrichment.launch_async(str(sample_db), **options(slow_server))
        seen = await follow(rerun)
        finished = await rerun.wait_async(timeout=120)
        stop.set()
        await beating
        return first, cancelled, unchanged, before_cancel, rerun, finished, seen, ticks

    first, cancelled, unchanged, before_cancel, rerun, finished, seen, ticks = asyncio.run(app())

    assert cancelled == "cancelled", first.log()
    assert unchanged, "a cancelled run leaves the old database"
    assert_rises(before_cancel)
    assert finished == "succeeded", rerun.log()
    assert_rises(seen)
    assert rerun.progress()["movies_done"] == 200
    report = rerun.report()
    assert report["movies_resumed_from_checkpoints"] >= 30
    assert report["movies_looked_up"] + report["movies_resumed_from_checkpoints"] == 200
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert len(ticks) > 20 and max(gaps) < 1.0, f"the event loop was blocked for {max(gaps):.2f} s"


@pytest.mark.e2e  # launches a real run
def test_attach_follows_a_run_started_elsewhere_to_its_end(sample_db, slow_server, options):
    launched = movie_enrichment.launch(str(sample_db), **options(slow_server))
    watch(launched, until=lambda p: p["phase"] != "starting")

    attached = movie_enrichment.attach(str(sample_db))
    assert attached.id == launched.id and attached.pid == launched.pid
    assert attached.state == "running"
    assert attached.wait(timeout=120) == "succeeded"
    assert attached.returncode == 0
    assert attached.report()["run_id"] == launched.id
    assert launched.wait(timeout=30) == "succeeded"
    with pytest.raises(LookupError):
        movie_enrichment.attach(str(sample_db), run_id="another")


@pytest.mark.e2e  # launches a real run
def test_attach_to_a_killed_run_says_it_failed(sample_db, slow_server, options):
    run = movie_enrichment.launch(str(sample_db), **options(slow_server))
    watch(run, until=lambda p: p["movies_done"] > 0)
    attached = movie_enrichment.attach(progress_file=str(sample_db) + ".progress.json")

    assert run.kill() is True
    assert run.wait(timeout=30) == "cancelled", "stopped by its launcher"

    assert attached.wait(timeout=30) == "failed"
    assert "ended without saying why" in attached.error
    assert attached.returncode is None


def test_attach_without_a_run_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no run to attach to"):
        movie_enrichment.attach(str(tmp_path / "movies.json"))


@pytest.mark.e2e  # launches a real run
def test_a_second_launch_on_a_busy_output_fails_with_the_holders_line(sample_db, slow_server, options):
    first = movie_enrichment.launch(str(sample_db), **options(slow_server))
    watch(first, until=lambda p: p["movies_done"] > 0)

    second = movie_enrichment.launch(str(sample_db), **options(slow_server))
    assert second.wait(timeout=60) == "failed"

    assert second.returncode == 3
    assert "another run is already enriching" in second.error
    assert second.progress()["phase"] == "failed" and second.report() is None
    assert first.progress()["state"] == "running", "the running run's progress file is its own"
    assert first.wait(timeout=120) == "succeeded"


@pytest.mark.e2e  # launches a real run
def test_a_sqlite_store_is_launched_and_attached_to_by_its_url(sample_db, tmdb_server, options, tmp_path):
    url = f"sqlite:///{tmp_path / 'movies.db'}"
    converted = run_cli(["convert", "--input", sample_db, "--output", url], tmp_path)
    assert converted.returncode == 0, converted.stderr

    run = movie_enrichment.launch(url, **options(tmdb_server))
    assert run.wait(timeout=120) == "succeeded", run.log()

    assert run.progress_file == str(tmp_path / "movies.db.progress.json")
    assert run.progress()["movies_done"] == 200
    attached = movie_enrichment.attach(url)
    assert attached.id == run.id and attached.state == "succeeded"
    assert attached.report()["movies_looked_up"] == 200


@pytest.mark.e2e  # launches a real run
def test_a_store_password_never_reaches_the_handle(tmdb_server, options, tmp_path):
    url = "postgresql://enricher:s3cret-pw@127.0.0.1:9/movies"  # nothing listens on port 9

    run = movie_enrichment.launch(url, **options(tmdb_server))
    assert run.wait(timeout=120) == "failed"

    assert run.error and "\n" not in run.error
    assert "s3cret-pw" not in json.dumps(run.to_dict()) + run.log()


@pytest.mark.e2e  # launches two real runs
def test_two_launches_at_once_refuse_the_second_and_keep_the_first(sample_db, slow_server, options):
    """Two `launch()` calls on one output, back to back, before either child has taken the run lock: the one
    launched second is refused with the holder's line (exit status 3), and the first runs to its end. Which child
    process happens to start first must not decide it (it did: the first was refused and the second ran)."""
    first = movie_enrichment.launch(str(sample_db), **options(slow_server))
    second = movie_enrichment.launch(str(sample_db), **options(slow_server))

    assert second.wait(timeout=60) == "failed", second.log()
    assert second.returncode == 3 and "another run is already enriching" in second.error, second.log()
    assert first.state in ("queued", "running"), first.log()
    assert first.wait(timeout=120) == "succeeded", first.log()
    assert first.report()["movies_looked_up"] == 200
    assert load(first.progress_file)["run_id"] == first.id, "the refused run left the first's progress alone"


def test_a_run_id_not_of_the_run_id_form_is_refused_and_nothing_starts(sample_db, tmp_path):
    before = tree(sample_db.parent)
    with pytest.raises(api.OptionError, match="is not a run id"):
        api.launch(str(sample_db), tmdb_api_key=API_KEY, run_id="../elsewhere")
    assert tree(sample_db.parent) == before
