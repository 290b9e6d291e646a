"""Options checked together: an option the run would ignore is a usage error; `--titles` entries that match no
movie are named; `--reprocess stale` takes the failed movies too; the modes are documented in --help."""

import datetime

import orjson
import pytest
from conftest import load, owned, tree

from movie_enrichment.pipelines import errors
from movie_enrichment.pipelines.config import resolve
from movie_enrichment.transforms.selection import Selector, unknown_titles_warning

BASE = ["--input", "movies.json", "--tmdb_api_key", "a-secret-key"]


@pytest.mark.parametrize("extra, reason", [
    (["--stale_after", "30"], "--stale_after would be ignored: it applies to --reprocess stale only"),
    (["--reprocess", "failed", "--stale_after=30"], "--stale_after would be ignored"),
    (["--watch_interval", "2"], "--watch_interval would be ignored: it applies to --watch only"),
    (["--no_http_cache", "--http_cache", "c.sqlite"], "--http_cache would be ignored: --no_http_cache turns"),
    (["--no_http_cache", "--http_cache_days", "3"], "--http_cache_days would be ignored"),
    (["--no_http_cache", "--http_cache_max_mb", "3"], "--http_cache_max_mb would be ignored"),
    (["--enrich", "metadata", "--poster_size", "w342"], "--poster_size would be ignored: it applies to --enrich "
                                                        "images only"),
    (["--enrich", "metadata", "--backdrop_size", "w780"], "--backdrop_size would be ignored"),
    (["--progress", "off", "--progress_interval", "5"], "--progress_interval would be ignored: --progress off"),
    (["--progress", "bar", "--progress_interval", "5"], "--progress_interval would be ignored: --progress bar"),
    (["--watch", "incoming", "--max_failures", "5"], "--max_failures would be ignored: --watch keeps running"),
    (["--table", "films"], "--table would be ignored: it applies to a SQLite or PostgreSQL database only"),
])
def test_an_option_the_run_would_ignore_is_a_usage_error(extra, reason):
    with pytest.raises(errors.FatalError) as raised:
        resolve(BASE + extra)
    assert raised.value.status == errors.EXIT_USAGE
    assert str(raised.value).startswith(reason) and "\n" not in str(raised.value)


@pytest.mark.parametrize("extra, reason", [
    (["--checkpoint_dir", "cp"], "--checkpoint_dir would be ignored: a database keeps each finished batch"),
    (["--backup_dir", "b"], "--backup_dir would be ignored: a database keeps its earlier rows"),
    (["--on_duplicate_keys", "fail"], "--on_duplicate_keys would be ignored: a database's keys are unique"),
])
def test_a_file_option_given_for_a_database_is_a_usage_error(extra, reason):
    with pytest.raises(errors.FatalError, match=reason):
        resolve(["--input", "sqlite:///movies.db", "--tmdb_api_key", "k"] + extra)


@pytest.mark.parametrize("extra", [
    ["--reprocess", "stale", "--stale_after", "30"],
    ["--watch", "incoming", "--watch_interval", "2"],
    ["--http_cache", "c.sqlite", "--http_cache_days", "3"],
    ["--enrich", "images", "--poster_size", "w342"],
    ["--progress", "lines", "--progress_interval", "5"],
    ["--progress", "off", "--max_failures", "5%"],
    ["--enrich", "metadata"],  # the defaults of the sizes are not "given"
])
def test_options_that_work_together_are_accepted(extra):
    resolve(BASE + extra)


def test_table_is_accepted_for_a_database():
    assert resolve(["--input", "sqlite:///movies.db", "--table", "films", "--tmdb_api_key", "k"])[1].table == "films"


def _outcome(status: str, days_ago: float) -> dict:
    when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days_ago)
    return {"status": status, "updated_at": when.isoformat()}


def test_stale_takes_new_failed_and_old_outcomes_but_not_recent_answers():
    selector = Selector(enrichers=("metadata",), mode="stale",
                        stale_before=datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=30))
    records = {
        "new": {"title": "New"},
        "failed yesterday": {"title": "F", "enrichment": {"metadata": _outcome("failed", 1)}},
        "ok long ago": {"title": "O", "enrichment": {"metadata": _outcome("ok", 60)}},
        "not found long ago": {"title": "N", "enrichment": {"metadata": _outcome("not_found", 60)}},
        "ok yesterday": {"title": "Y", "enrichment": {"metadata": _outcome("ok", 1)}},
        "ambiguous yesterday": {"title": "A", "enrichment": {"metadata": _outcome("ambiguous", 1)}},
    }
    picked = {key for key, record in records.items() if selector.needed(key, record)}
    assert picked == {"new", "failed yesterday", "ok long ago", "not found long ago"}


def test_unknown_titles_are_counted_and_the_first_few_named():
    titles = frozenset(["Alien", "Heat", "Nope 1", "Nope 2", "Nope 3", "Nope 4", "Nope 5", "Nope 6", "Nope 7"])
    warning = unknown_titles_warning(titles, {"Alien", "Heat"})
    assert warning == ("7 --titles entries match no movie of the database (neither a key nor a title): 'Nope 1', "
                       "'Nope 2', 'Nope 3', 'Nope 4', 'Nope 5' and 2 more")
    assert unknown_titles_warning(titles, titles) is None
    assert unknown_titles_warning(frozenset(["X"]), ()).startswith("1 --titles entry matches no movie")


@pytest.mark.slow
def test_the_command_warns_once_about_unknown_titles_and_enriches_the_known(sample_db, tmdb_server, tmp_path, cli):
    keys = list(load(sample_db))[:2]
    titles = tmp_path / "titles.txt"
    titles.write_text("\n".join(keys + ["No Such Film", "Another Missing One"]) + "\n")
    args = ["--input", sample_db, "--tmdb_base_url", tmdb_server.url, "--progress", "off", "--no_http_cache",
            "--enrich", "metadata", "--titles", titles]
    preview = cli(args + ["--dry_run"])
    assert preview.returncode == 0 and ("warning: 2 --titles entries match no movie of the database (neither a key "
                                        "nor a title): 'Another Missing One', 'No Such Film'") in preview.stdout
    done = cli(args)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if "--titles" in line]
    assert lines == ["movie-enrich: 2 --titles entries match no movie of the database (neither a key nor a title): "
                     "'Another Missing One', 'No Such Film'"], done.stderr
    after = load(sample_db)
    assert all("enrichment" in after[k] for k in keys)


def test_the_command_refuses_stale_after_without_stale_before_anything_is_written(sample_db, tmdb_server, cli):
    before = owned(tree(sample_db.parent))
    done = cli(["--input", sample_db, "--tmdb_base_url", tmdb_server.url, "--stale_after", "30"])
    assert done.returncode == 2
    assert done.stderr == ("movie-enrich: error: --stale_after would be ignored: it applies to --reprocess stale "
                           "only\n")
    assert owned(tree(sample_db.parent)) == before and tmdb_server.counts()["total"] == 0


def test_help_documents_each_reprocess_mode_and_what_it_includes(cli):
    text = " ".join(cli(["--help"]).stdout.split())
    for words in ("missing (default): never enriched, and failed", "failed: failed only",
                  "not_found: the movies TMDB has no match for AND the ambiguous ones",
                  "stale: never enriched, failed or removed (however recent),",
                  "and every outcome older than the film's age allows",
                  "(7 days while new, 30 within 2 years, 180 older; see the README) or than --stale_after days",
                  "changed: the enriched movies that TMDB lists as edited", "all: every movie",
                  "with --reprocess stale (and only with it)"):
        assert words in text, words


@pytest.mark.slow
def test_a_json_database_with_a_recent_failure_is_healed_by_one_stale_run(sample_db, tmdb_server, cli):
    movies = load(sample_db)
    first = next(iter(movies))
    recent = datetime.datetime.now(datetime.timezone.utc).isoformat()
    movies[first] = {**movies[first], "enrichment": {"metadata": {"status": "failed", "updated_at": recent,
                                                                  "error": "HTTP 503"}}}
    sample_db.write_bytes(orjson.dumps(movies))
    done = cli(["--input", sample_db, "--tmdb_base_url", tmdb_server.url, "--progress", "off", "--no_http_cache",
                "--enrich", "metadata", "--reprocess", "stale", "--stale_after", "30"])
    assert done.returncode == 0, done.stderr
    assert load(sample_db)[first]["enrichment"]["metadata"]["status"] != "failed"
