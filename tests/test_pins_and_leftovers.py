"""Issue 23: pins by position and quoted keys, pins that match no movie, nothing left beside a refused input,
and a percentage that never shows 100% before the end."""

import io
import json
import os

import pytest
from conftest import API_KEY, load

from movie_enrichment.io import lock
from movie_enrichment.pipelines import report
from movie_enrichment.testing import corpus
from movie_enrichment.testing.tmdb_server import TmdbServer
from movie_enrichment.transforms.selection import PinsError, read_pins


def progress_line(done: int, selected: int) -> str:
    display = report.ProgressDisplay("off", 60, io.StringIO(), lambda: {})
    counts = dict(selected=selected, done=done, failed=0, requests=0, throttled=0, retries=0, cache_hits=0,
                  writing=0, enriching=1)
    return display.line(counts)


def test_percent_done_never_shows_100_before_every_movie_is_done():
    assert "3186/3201 (99.5%)" in progress_line(3186, 3201)
    assert report.figures(dict(selected=3201, done=3200, failed=0, requests=0, throttled=0, retries=0,
                               cache_hits=0, writing=0, enriching=1), 1.0)["percent"] == 99.9
    assert "3200/3201 (99.9%)" in progress_line(3200, 3201)
    assert "(100%)" in progress_line(3201, 3201)
    assert "(66%)" in progress_line(2, 3)  # below 99 the whole percent, floored
    assert "(0%)" in progress_line(0, 0)


def test_pins_file_takes_position_keys_and_quoted_keys():
    assert read_pins(["# a comment, 5", "#288,900050", "#note", " #3 , 949", '"Heat (1995)",949',
                      '"Say ""Hi"", Again",tt0112431', "#", "# 12,5 is a comment: the key is #12 only with no space"]) == {
        "#288": "tmdb:900050", "#3": "tmdb:949", "Heat (1995)": "tmdb:949", 'Say "Hi", Again': "imdb:tt0112431"}
    with pytest.raises(PinsError, match="line 1"):
        read_pins(['"Heat (1995)"'])


@pytest.fixture
def server():
    with TmdbServer(catalog=corpus.full_catalog(), api_key=API_KEY) as running:
        yield running


def args(server, db, *extra):
    return ["--input", db, "--tmdb_base_url", server.url, "--no_http_cache", "--progress", "off",
            "--max_requests_per_second", "0", *extra]


@pytest.mark.slow
def test_position_pin_on_an_array_database_and_a_pin_that_matches_no_movie(server, tmp_path, cli):
    db = tmp_path / "movies.json"
    # Both read "Psycho (1960)"; the second is pinned, by its position, to the 1998 remake.
    db.write_text(json.dumps([{"title": "Psycho", "year": 1960}, {"title": "Psycho", "year": 1960}]))
    pins = tmp_path / "pins.csv"
    pins.write_text("# position keys, as the review list names a film of an array\n#1,11252\nNo Such Film,603\n")
    done = cli(args(server, db, "--pins", pins))
    assert done.returncode == 0, done.stderr
    first, second = load(db)
    assert first["tmdb"]["id"] == 539 and second["tmdb"]["id"] == 11252
    warnings = [line for line in done.stderr.splitlines() if "No Such Film" in line]
    assert warnings == ["movie-enrich: warning: 1 --pins entry matches no movie of the database (no record has "
                        "that key): 'No Such Film'"], done.stderr
    assert "#1" not in done.stderr
    report = load(tmp_path / "movies.json.report.json")
    assert report["pins_unmatched"] == 1 and report["titles_unmatched"] == 0


@pytest.mark.slow
def test_a_refused_file_leaves_nothing_beside_it_and_keeps_what_was_there(server, tmp_path, cli):
    fresh, used = tmp_path / "fresh", tmp_path / "used"
    for folder in (fresh, used):
        folder.mkdir()
        (folder / "movies.json").write_bytes(b'{"Heat": {"title": "Heat", "year": 19')  # truncated
    # Beside the second: a scraper's database lock and the previous run's final progress file.
    (used / "movies.json.lock").write_bytes(b"")
    previous = b'{"schema": 1, "run_id": "earlier", "phase": "done", "final": true}\n'
    (used / "movies.json.progress.json").write_bytes(previous)
    for folder in (fresh, used):
        done = cli(args(server, folder / "movies.json"))
        assert done.returncode == 1 and done.stderr.startswith("movie-enrich: error: "), done.stderr
    assert sorted(p.name for p in fresh.iterdir()) == ["movies.json"]
    assert sorted(p.name for p in used.iterdir()) == ["movies.json", "movies.json.lock", "movies.json.progress.json"]
    assert (used / "movies.json.progress.json").read_bytes() == previous
    assert server.counts()["total"] == 0


def test_a_lock_file_is_removed_only_while_nobody_holds_it(tmp_path):
    free, held = str(tmp_path / "a.json.lock"), str(tmp_path / "b.json.run.lock")
    other = lock.FileLock(held)
    assert other.try_acquire()
    open(free, "wb").close()
    try:
        lock.remove_lock_files([free, held, str(tmp_path / "never.lock")])
        assert not os.path.exists(free) and os.path.exists(held), "the held lock stays"
    finally:
        other.release()
    lock.remove_lock_files([held])
    assert not os.path.exists(held)
    assert lock.absent_lock_files(str(tmp_path / "b.json")) == [str(tmp_path / "b.json.lock"),
                                                                 str(tmp_path / "b.json.run.lock")]


def test_the_progress_bar_never_shows_100_before_every_movie_is_done():
    stream = io.StringIO()
    counts = dict(selected=3201, done=3186, failed=0, requests=0, throttled=0, retries=0, cache_hits=0,
                  writing=0, enriching=1)
    with report.ProgressDisplay("bar", 60, stream, lambda: counts):
        pass  # the bar draws once more as the display stops
    drawn = stream.getvalue()
    assert "3186/3201" in drawn and "99.5%" in drawn and "100%" not in drawn, drawn
