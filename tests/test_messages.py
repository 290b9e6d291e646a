"""What a person reads: counts that agree with their nouns, durations as said, absolute paths, --help examples."""

import os
import sys
import threading

import orjson
import pytest
from conftest import DATA, load

from movie_enrichment.pipelines import process
from movie_enrichment.pipelines.report import about, plural, shown


def test_plural_about_and_shown():
    assert [plural(n, "movie") for n in (0, 1, 2)] == ["0 movies", "1 movie", "2 movies"]
    assert plural(1, "new file") == "1 new file" and plural(3, "new file") == "3 new files"
    assert about(0) == "under a minute" and about(59) == "under a minute"
    assert about(60) == "about 1 minute" and about(170) == "about 3 minutes" and about(3 * 3600) == "about 3.0 hours"
    assert shown("db/movies.json") == os.path.abspath("db/movies.json")
    assert shown("gs://bucket/movies.json") == "gs://bucket/movies.json"


def test_dry_run_of_one_movie_reads_right(tmp_path, cli, tmdb_server):
    one = dict(list(load(DATA / "sample_movies.json").items())[:1])
    db = tmp_path / "one.json"
    db.write_bytes(orjson.dumps(one))
    done = cli(["--input", db, "--dry_run", "--tmdb_base_url", tmdb_server.url])
    assert done.returncode == 0, done.stderr
    assert "dry run: 1 record in " + str(db) in done.stdout
    assert "would enrich 1 movie\n" in done.stdout
    assert "0.0 minutes" not in done.stdout and "under a minute" in done.stdout


def test_help_ends_with_examples(cli):
    text = cli(["--help"]).stdout
    tail = text[text.rindex("examples:"):]
    assert "--dry_run" in tail and "--max_failures 5%" in tail and "--reprocess failed" in tail


@pytest.mark.slow
def test_a_previous_version_already_backed_up_is_named_not_called_missing(tmp_path, cli, tmdb_server):
    """The sink writes no backup byte-identical to the newest one; the table then names that backup rather than
    saying there was no previous output (the database restored by hand from its backup, say)."""
    original = orjson.dumps(dict(list(load(DATA / "sample_movies.json").items())[:5]))
    db = tmp_path / "movies.json"
    args = ["--input", db, "--tmdb_base_url", tmdb_server.url, "--no_http_cache", "--progress", "off",
            "--enrich", "metadata", "--report", tmp_path / "report.json"]
    db.write_bytes(original)
    assert cli(args).returncode == 0
    (backup,) = (tmp_path / "backups").iterdir()
    assert backup.read_bytes() == original
    db.write_bytes(original)
    done = cli(args)
    assert done.returncode == 0, done.stderr
    assert f"backup   {backup} (already kept: the version this run replaced equals it)\n" in done.stdout
    assert list((tmp_path / "backups").iterdir()) == [backup]
    report = load(tmp_path / "report.json")
    assert report["backup"] == str(backup) and report["backup_reused"] is True


def test_a_failed_runs_late_tracebacks_do_not_come_before_its_one_line(capfd):
    """Beam's worker threads print the traceback of each failing bundle (sdk_worker: print(..., file=sys.stderr));
    those still running when the first failure ends the run printed theirs on the real standard error, before
    the command's one line (seen with a wrong key and a warm cache on a loaded machine)."""
    late = threading.Event()

    def worker():
        late.wait(10)
        print("Traceback (most recent call last): ...", file=sys.stderr)

    thread = threading.Thread(target=worker)
    thread.start()
    with pytest.raises(RuntimeError), process.stderr_aside(True):
        os.write(2, b"Beam's own output while the run goes, on fd 2\n")
        raise RuntimeError("a bundle failed")
    late.set()
    thread.join()
    process.say("movie-enrich: error: the one line")
    process.speak_again()
    print("said after", file=sys.stderr)
    assert capfd.readouterr().err == "movie-enrich: error: the one line\nsaid after\n"
