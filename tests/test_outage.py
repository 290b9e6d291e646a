"""TMDB down: the circuit breaker (`tmdb.Outage`) ends a run in minutes instead of retrying every movie, and lets
a run go on when TMDB comes back."""

import threading
import time

import orjson
import pytest
from conftest import API_KEY, load

from movie_enrichment.io import stop
from movie_enrichment.io.tmdb import DOWN_AFTER_FAILURES, Outage, TmdbError
from movie_enrichment.pipelines.errors import EXIT_ALL_FAILED, EXIT_SOME_FAILED
from movie_enrichment.testing import synthetic
from movie_enrichment.testing.tmdb_server import Faults, TmdbServer

MOVIES = 200


def down(outage: Outage) -> None:
    for _ in range(DOWN_AFTER_FAILURES):
        outage.failed(False, "HTTP 503 from search after retries")


def test_failures_below_the_threshold_or_broken_by_an_answer_hold_nothing_back():
    outage = Outage()
    for _ in range(DOWN_AFTER_FAILURES - 1):
        outage.failed(False, "HTTP 503")
    assert outage.before(0) is False
    outage.answered(False)
    for _ in range(DOWN_AFTER_FAILURES - 1):
        outage.failed(False, "HTTP 503")
    assert outage.before(0) is False


def test_once_down_one_probe_goes_out_and_the_rest_fail_at_once_past_down_after():
    outage = Outage(probe_seconds=30.0)
    down(outage)
    with pytest.raises(TmdbError, match=r"TMDB unreachable for \d+ s \(every request failed; last: HTTP 503"):
        outage.before(0)
    # The probe time comes: exactly one request goes out; the others still fail without a request.
    outage._next_probe = time.monotonic()  # pylint: disable=protected-access
    assert outage.before(0) is True
    with pytest.raises(TmdbError, match="TMDB unreachable"):
        outage.before(0)
    outage.answered(True)  # TMDB answered the probe: the outage is over
    assert outage.before(0) is False


def test_requests_wait_while_down_and_go_on_when_tmdb_answers():
    outage = Outage(probe_seconds=30.0)
    down(outage)
    went = []
    waiting = [threading.Thread(target=lambda: went.append(outage.before(60))) for _ in range(4)]
    for thread in waiting:
        thread.start()
    time.sleep(0.3)
    assert went == [], "nothing is sent while TMDB is down and no probe is due"
    outage.answered(False)  # a request still in flight got an answer
    for thread in waiting:
        thread.join(5)
    assert went == [False] * 4


def test_a_process_asked_to_stop_leaves_the_outage_wait_within_a_second():
    outage = Outage(probe_seconds=30.0)
    down(outage)
    outage.failed(True, "HTTP 503")  # the probe failed too: the next one is 30 s away, giving up 60 s away
    ended = []

    def wait():
        try:
            outage.before(60)
        except stop.StopRequested:
            ended.append(time.monotonic())

    waiting = threading.Thread(target=wait)
    waiting.start()
    time.sleep(0.2)
    asked = time.monotonic()
    stop.request()
    try:
        waiting.join(5)
    finally:
        stop.clear()
    assert ended and ended[0] - asked < 1.0, "a stop ends the wait, not the next probe 30 s later"


def _run(server, db, tmp_path, cli, *extra):
    return cli(["--input", db, "--tmdb_base_url", server.url, "--no_http_cache",
                "--max_requests_per_second", "0", "--http_retries", "0", "--failures", tmp_path / "failures.jsonl",
                "--report", tmp_path / "report.json", *extra], timeout=240)


@pytest.mark.slow
def test_a_run_with_tmdb_down_stops_asking_and_says_why(tmp_path, cli):
    db = tmp_path / "movies.json"
    db.write_bytes(synthetic.database(MOVIES))
    with TmdbServer(catalog=synthetic.catalog(MOVIES), api_key=API_KEY, faults=Faults(error_5xx=1.0)) as server:
        done = _run(server, db, tmp_path, cli, "--tmdb_down_after", "3", "--progress", "lines",
                    "--progress_interval", "0.5")
        requests = server.counts()["total"]
    assert done.returncode == EXIT_ALL_FAILED, done.stderr
    assert f"{MOVIES} of {MOVIES} movies failed (every lookup failed; exit status 5)" in done.stderr
    # While it waits for TMDB, the progress line says why nothing moves.
    assert "TMDB not answering, requests wait (--tmdb_down_after); movies " in done.stderr, done.stderr
    # Without the breaker every movie makes at least its search request (200); here the lookups in flight when
    # TMDB was found down, and a probe or two.
    assert requests < 60, requests
    lines = [orjson.loads(line) for line in (tmp_path / "failures.jsonl").read_bytes().splitlines()]
    assert len(lines) == 2 * MOVIES  # a line per movie and enricher
    unreachable = [line for line in lines if "TMDB unreachable" in line["error"]]
    assert len(unreachable) > 2 * (MOVIES - 60)
    assert all(line["error"].endswith("): not asked") and "HTTP 50" in line["error"] for line in unreachable)


def _back_once_found_down(server: TmdbServer, stop: threading.Event) -> None:
    """Mends the server once the run has found TMDB down: at least DOWN_AFTER_FAILURES 5xx (the run asks with
    --http_retries 0), then none for a second (the run waits, asking only its probe every few seconds). Tied to what the
    server saw rather than to a timer, so that a slow start on a loaded machine changes nothing."""
    seen, quiet_since = 0, None
    while not stop.wait(0.05):
        errors = sum(n for status, n in server.counts()["by_status"].items() if status.startswith("5"))
        if errors != seen:
            seen, quiet_since = errors, None
        elif errors >= DOWN_AFTER_FAILURES:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= 1.0:
                server.faults = Faults()
                return


@pytest.mark.slow
def test_a_run_goes_on_when_tmdb_comes_back_within_tmdb_down_after(tmp_path, cli):
    db = tmp_path / "movies.json"
    db.write_bytes(synthetic.database(MOVIES))
    with TmdbServer(catalog=synthetic.catalog(MOVIES), api_key=API_KEY, faults=Faults(error_5xx=1.0)) as server:
        stop = threading.Event()
        back = threading.Thread(target=_back_once_found_down, args=(server, stop), daemon=True)
        back.start()
        try:
            done = _run(server, db, tmp_path, cli, "--tmdb_down_after", "120", "--enrich", "metadata",
                        "--progress", "off")
        finally:
            stop.set()
            back.join()
    assert done.returncode == EXIT_SOME_FAILED, done.stderr
    report = load(tmp_path / "report.json")
    # Only the lookups that failed before TMDB was found down are lost; the others waited and went on.
    assert report["movies_failed"] <= 2 * 16, report
    assert report["enrichers"]["metadata"]["ok"] >= MOVIES - 2 * 16 - 20, report
