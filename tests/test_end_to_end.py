"""The command end to end against the bundled local TMDB server, on temporary files.

`cli` runs the command in this process; a test marked `e2e` runs it as a real process (`python -m
movie_enrichment`): the whole sample once as a user would, and the interpreter's own start-up output."""

import filelock
import orjson
import pytest
from conftest import load, owned, tree

OWN = ("tmdb", "images", "enrichment")


def base_args(server, db, *extra):
    return ["--input", db, "--tmdb_base_url", server.url, "--no_http_cache", "--progress", "off",
            "--max_requests_per_second", "0", *extra]


def originals(db: dict) -> dict:
    return {k: ({f: v for f, v in r.items() if f not in OWN} if isinstance(r, dict) else r) for k, r in db.items()}


@pytest.mark.e2e
def test_full_run_keeps_every_record_and_matches_the_sample_right(tmdb_server, sample_db, expected, cli):
    before = load(sample_db)
    done = cli(base_args(tmdb_server, sample_db))
    assert done.returncode == 0, done.stderr
    after = load(sample_db)
    assert list(after) == list(before), "every key kept, in order"
    assert originals(after) == before, "every original field unchanged"

    wrong, missed = [], []
    for key, want in expected.items():
        record = after[key]
        status = record["enrichment"]["metadata"]["status"]
        assert record["enrichment"]["images"]["status"] == status
        got = record["tmdb"]["id"] if status == "ok" else status
        if got != want:
            (missed if status in ("not_found", "ambiguous") else wrong).append((key, want, got))
    assert wrong == [], f"wrong matches: {wrong}"
    ok = sum(isinstance(v, int) for v in expected.values())
    assert len(missed) <= 0.05 * ok, f"too many matchable films missed: {missed}"

    psycho = next(r for r in after.values() if isinstance(r, dict) and r.get("enrichment", {}).get(
        "metadata", {}).get("status") == "ok")
    assert set(psycho["tmdb"]) >= {"id", "imdb_id", "title", "original_title", "release_date", "year", "overview",
                                   "tagline", "runtime", "genres", "original_language", "vote_average",
                                   "vote_count", "popularity", "directors", "cast", "production_countries",
                                   "spoken_languages"}
    assert set(psycho["images"]) == {"poster", "backdrop", "logo", "poster_language", "backdrop_language",
                                     "logo_language", "posters", "backdrops", "logos"}
    assert psycho["images"]["poster"].startswith("https://image.tmdb.org/t/p/w500/")

    counts = tmdb_server.counts()
    looked_up = sum(1 for v in expected.values() if v != "invalid")
    assert counts["by_endpoint"].get("configuration", 0) <= 4, "configuration fetched once per worker at most"
    per_movie = (counts["total"] - counts["by_endpoint"].get("configuration", 0)) / looked_up
    assert per_movie <= 2.0, counts
    assert "requests" in done.stdout and "ok" in done.stdout


@pytest.mark.slow
def test_a_rerun_that_changes_nothing_writes_nothing(tmdb_server, sample_db, cli):
    assert cli(base_args(tmdb_server, sample_db)).returncode == 0
    first = sample_db.read_bytes()
    folder = sample_db.parent / "backups"
    backups = tree(folder)
    assert list(backups.values()) == [b for b in backups.values() if b != first] and len(backups) == 1
    stamp = sample_db.stat().st_mtime_ns
    tmdb_server.reset_counts()
    done = cli(base_args(tmdb_server, sample_db))
    assert done.returncode == 0, done.stderr
    assert tmdb_server.counts()["total"] == 0, "a fully enriched database costs no request"
    assert "unchanged: the result equals it, so nothing was written" in done.stdout
    assert "(none: nothing was written)" in done.stdout
    assert sample_db.read_bytes() == first and sample_db.stat().st_mtime_ns == stamp, "the file is not rewritten"
    assert tree(folder) == backups, "no backup of an unchanged database"


@pytest.mark.slow
def test_no_op_reruns_past_keep_backups_keep_every_distinct_earlier_version(tmdb_server, sample_db, cli):
    original = sample_db.read_bytes()
    assert cli(base_args(tmdb_server, sample_db, "--keep_backups", "3")).returncode == 0
    enriched = sample_db.read_bytes()
    assert cli(base_args(tmdb_server, sample_db, "--keep_backups", "3", "--reprocess", "all")).returncode == 0
    refreshed = sample_db.read_bytes()
    assert refreshed != enriched  # a refresh stamps the enrichment anew: a third distinct version
    folder = sample_db.parent / "backups"
    for _ in range(4):  # more than --keep_backups: had each written a backup, the earlier versions would be gone
        done = cli(base_args(tmdb_server, sample_db, "--keep_backups", "3"))
        assert done.returncode == 0, done.stderr
    assert sample_db.read_bytes() == refreshed
    assert sorted(tree(folder).values()) == sorted([original, enriched]), "both earlier versions are kept"


@pytest.mark.slow
@pytest.mark.parametrize("content, message", [
    (b"{not json", "not valid JSON"),
    (b'["a", "b"]', "no movie records"),
    (b"", "empty"),
    (b"   \n", "empty"),
    (b'"just a string"', "a string"),
])
def test_invalid_input_fails_in_one_line_and_touches_nothing(tmdb_server, tmp_path, cli, content, message):
    folder = tmp_path / "db"
    folder.mkdir()
    (folder / "movies.json").write_bytes(content)
    (folder / "backups").mkdir()
    (folder / "backups" / "old.json").write_bytes(b"{}")
    before = tree(folder)
    done = cli(base_args(tmdb_server, folder / "movies.json"))
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr
    assert "Traceback" not in done.stderr
    assert owned(tree(folder)) == before
    assert tmdb_server.counts()["total"] == 0


def test_missing_input_fails_in_one_line(tmdb_server, tmp_path, cli):
    done = cli(base_args(tmdb_server, tmp_path / "nope.json"))
    assert done.returncode != 0 and done.stderr.strip() == \
        f"movie-enrich: error: input file not found: {tmp_path / 'nope.json'}"


@pytest.mark.slow
def test_rejected_key_stops_before_writing(tmdb_server, sample_db, cli):
    before = tree(sample_db.parent)
    done = cli(base_args(tmdb_server, sample_db), key="wrong-key")
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1 and "rejected the API key" in done.stderr
    assert "wrong-key" not in done.stderr
    after = owned(tree(sample_db.parent))
    assert {k: v for k, v in after.items() if ".checkpoints" not in k} == before


@pytest.mark.slow
def test_metadata_only_leaves_images_out(tmdb_server, sample_db, cli):
    done = cli(base_args(tmdb_server, sample_db, "--enrich", "metadata"))
    assert done.returncode == 0, done.stderr
    records = [r for r in load(sample_db).values() if isinstance(r, dict)]
    assert not any("images" in r for r in records)
    assert any(r.get("enrichment", {}).get("metadata", {}).get("status") == "ok" for r in records)
    # /configuration only for the image host of collections' art (issue 24), once per run, not per movie.
    assert tmdb_server.counts()["by_endpoint"].get("configuration", 0) <= 1
    assert any((r.get("tmdb") or {}).get("collection") for r in records)


@pytest.mark.slow
@pytest.mark.parametrize("name, body", [
    ("movies.jsonl", b'{"title": "Psycho", "year": 1960}\n{"title": "The Matrix", "year": 1999}\n'),
    ("movies.json", b'[{"title": "Psycho", "year": 1960}, {"title": "The Matrix", "year": 1999}]'),
])
def test_array_and_json_lines_keep_their_format(tmdb_server, tmp_path, cli, name, body):
    path = tmp_path / name
    path.write_bytes(body)
    done = cli(base_args(tmdb_server, path))
    assert done.returncode == 0, done.stderr
    text = path.read_bytes()
    if name.endswith(".jsonl"):
        rows = [orjson.loads(line) for line in text.splitlines()]
    else:
        rows = orjson.loads(text)
        assert isinstance(rows, list)
    assert [r["title"] for r in rows] == ["Psycho", "The Matrix"]
    assert all(r["enrichment"]["metadata"]["status"] == "ok" for r in rows)


def test_a_second_run_on_the_same_output_is_refused(tmdb_server, sample_db, cli):
    before = sample_db.read_bytes()
    with filelock.FileLock(str(sample_db) + ".run.lock", timeout=0):
        done = cli(base_args(tmdb_server, sample_db))
    assert done.returncode == 3 and "another run" in done.stderr
    assert sample_db.read_bytes() == before and tmdb_server.counts()["total"] == 0


def test_dry_run_touches_no_file_and_no_server(tmdb_server, sample_db, cli):
    before = tree(sample_db.parent)
    done = cli(base_args(tmdb_server, sample_db, "--dry_run"))
    assert done.returncode == 0, done.stderr
    assert "would enrich" in done.stdout and "estimated requests" in done.stdout
    assert tree(sample_db.parent) == before and tmdb_server.counts()["total"] == 0


@pytest.mark.slow
@pytest.mark.parametrize("mode", [
    ["--direct_running_mode", "multi_threading", "--direct_num_workers", "4"],
    ["--direct_running_mode", "multi_processing", "--direct_num_workers", "2"],
], ids=["threads", "processes"])
def test_cached_rerun_makes_one_request_to_check_the_key(tmdb_server, sample_db, tmp_path, cli, mode):
    cache = tmp_path / "cache" / "http.sqlite"
    args = ["--input", sample_db, "--tmdb_base_url", tmdb_server.url, "--http_cache", cache, "--progress", "off",
            "--max_requests_per_second", "0", *mode]
    assert cli(args + ["--output", tmp_path / "first.json"]).returncode == 0
    first = tmdb_server.counts()["total"]
    tmdb_server.reset_counts()
    # The same movies, not enriched yet in this output: every answer comes from the cache the workers share.
    done = cli(args + ["--output", tmp_path / "second.json"])
    assert done.returncode == 0, done.stderr
    # One request, however many workers: TMDB must accept the key before a cached answer is trusted.
    assert first > 0 and tmdb_server.counts()["total"] == 1
    assert {k: n for k, n in tmdb_server.counts()["by_endpoint"].items() if n} == {"configuration": 1}
    report = load(tmp_path / "second.json.report.json")
    assert report["cache_hits"] > 0 and report["requests"] == 1
    def blocks(path):
        return {k: (r.get("tmdb"), r.get("images")) for k, r in load(path).items() if isinstance(r, dict)}
    assert blocks(tmp_path / "second.json") == blocks(tmp_path / "first.json")
    assert b"test-api-key" not in cache.read_bytes()


@pytest.mark.slow
def test_progress_lines_and_report(tmdb_server, sample_db, cli):
    done = cli(["--input", sample_db, "--tmdb_base_url", tmdb_server.url, "--no_http_cache", "--progress",
                "lines", "--progress_interval", "0.2", "--max_requests_per_second", "200"])
    assert done.returncode == 0, done.stderr
    assert "progress: movies" in done.stderr and "ETA" in done.stderr
    report = load(str(sample_db) + ".report.json")
    assert report["enrichers"]["metadata"]["ok"] > 150
    assert report["requests"] == tmdb_server.counts()["total"]


@pytest.mark.slow
def test_multi_processing_mode_gives_the_same_database(tmdb_server, sample_db, tmp_path, cli):
    """DoFns pickled into other processes, as on a distributed runner: same result, rate shared out."""
    threaded = tmp_path / "threaded.json"
    threaded.write_bytes(sample_db.read_bytes())
    assert cli(base_args(tmdb_server, threaded)).returncode == 0
    done = cli(base_args(tmdb_server, sample_db, "--direct_running_mode", "multi_processing",
                         "--direct_num_workers", "2", "--batch_size", "50"))
    assert done.returncode == 0, done.stderr

    def comparable(path):
        return {k: (r.get("tmdb", {}) or {}).get("id") if isinstance(r, dict) else r for k, r in load(path).items()}
    assert comparable(sample_db) == comparable(threaded)
    report = load(str(sample_db) + ".report.json")
    assert report["movies_looked_up"] == 200 and report["requests"] > 0
    assert not (sample_db.parent / "movies.json.checkpoints").exists()


def test_help_lists_our_options_first_in_groups(cli):
    done = cli(["--help"])
    assert done.returncode == 0
    text = done.stdout
    for group in ("movie database:", "what to enrich:", "TMDB API:", "checkpoints and runs:"):
        assert group in text
    assert text.index("--input") < text.index("--dry_run") and "--help_beam" in text
    assert "--runner RUNNER" not in text, "Beam's own options are behind --help_beam"
    beam_help = cli(["--help_beam"])
    assert beam_help.returncode == 0 and "--runner RUNNER" in beam_help.stdout


@pytest.mark.e2e
def test_a_normal_run_starts_quietly(tmdb_server, sample_db, cli):
    done = cli(base_args(tmdb_server, sample_db))
    assert done.returncode == 0
    assert done.stderr == "", "no warning, no notice about optional cloud libraries"


def test_missing_key_is_reported_before_any_work_with_what_to_do(tmdb_server, sample_db, cli):
    before = tree(sample_db.parent)
    done = cli(base_args(tmdb_server, sample_db), key=None)
    assert done.returncode == 2 and "TMDB_API_KEY" in done.stderr and "--tmdb_api_key" in done.stderr
    assert tree(sample_db.parent) == before and tmdb_server.counts()["total"] == 0
