"""Refreshes with the HTTP cache on (the default): `--reprocess all`, `stale` and `changed` fetch fresh data."""

import pytest
from conftest import load


def args(server, db, cache, *extra):
    return ["--input", db, "--tmdb_base_url", server.url, "--http_cache", cache, "--progress", "off",
            "--max_requests_per_second", "0", *extra]


def enriched_ids(db) -> dict[int, str]:
    return {r["tmdb"]["id"]: key for key, r in load(db).items()
            if isinstance(r, dict) and r.get("enrichment", {}).get("metadata", {}).get("status") == "ok"}


def edit(server, tmdb_ids):
    """TMDB's editors change these films (2% of the sample) after the first run."""
    for tmdb_id in tmdb_ids:
        server.change_movie(tmdb_id, overview=f"Edited overview of {tmdb_id}.")


@pytest.mark.slow
def test_a_run_without_refresh_is_answered_by_the_cache(tmdb_server, sample_db, tmp_path, cli):
    cache = tmp_path / "cache.sqlite"
    assert cli(args(tmdb_server, sample_db, cache, "--output", tmp_path / "first.json")).returncode == 0
    tmdb_server.reset_counts()
    # The same movies into another output: nothing is enriched there yet, and every answer is cached.
    done = cli(args(tmdb_server, sample_db, cache, "--output", tmp_path / "second.json"))
    assert done.returncode == 0, done.stderr
    assert tmdb_server.counts()["total"] == 1, "the one request that checks the key"
    report = load(tmp_path / "second.json.report.json")
    assert report["cache_hits"] > 300 and report["requests"] == 1


@pytest.mark.slow
# --stale_after 1e-9 days (86 us): whatever the first run stamped is stale however soon the second run starts.
@pytest.mark.parametrize("mode", [["--reprocess", "all"], ["--reprocess", "stale", "--stale_after", "0.000000001"]],
                         ids=["all", "stale"])
def test_a_refresh_fetches_fresh_data_and_updates_the_cache(tmdb_server, sample_db, tmp_path, cli, mode):
    cache = tmp_path / "cache.sqlite"
    assert cli(args(tmdb_server, sample_db, cache)).returncode == 0
    known = enriched_ids(sample_db)
    changed = sorted(known)[:4]
    edit(tmdb_server, changed)
    tmdb_server.reset_counts()
    done = cli(args(tmdb_server, sample_db, cache, *mode))
    assert done.returncode == 0, done.stderr
    after = load(sample_db)
    # One request per enriched movie (its TMDB id is known now), none answered from the cache.
    assert tmdb_server.counts()["by_endpoint"]["movie"] >= len(known)
    assert [after[known[i]]["tmdb"]["overview"] for i in changed] == [f"Edited overview of {i}." for i in changed]


@pytest.mark.slow
def test_reprocess_changed_refreshes_only_the_listed_movies(tmdb_server, sample_db, tmp_path, cli):
    cache = tmp_path / "cache.sqlite"
    assert cli(args(tmdb_server, sample_db, cache)).returncode == 0
    before = load(sample_db)
    known = enriched_ids(sample_db)
    changed = sorted(known)[:4]
    edit(tmdb_server, changed)
    tmdb_server.changes_noise_per_day = 250  # TMDB lists films the database does not have, too
    tmdb_server.reset_counts()

    dry = cli(args(tmdb_server, sample_db, cache, "--reprocess", "changed", "--dry_run"))
    assert dry.returncode == 0, dry.stderr
    assert "4 of these enriched movies would be refreshed" in dry.stdout
    assert tmdb_server.counts()["by_endpoint"]["movie"] == 0

    tmdb_server.reset_counts()
    done = cli(args(tmdb_server, sample_db, cache, "--reprocess", "changed"))
    assert done.returncode == 0, done.stderr
    counts = tmdb_server.counts()["by_endpoint"]
    # The change list (254 ids: 3 pages) and one details request per listed movie, with its known id.
    assert counts["movie"] == 4 and counts["search/movie"] == 0 and counts["movie/changes"] == 3
    after = load(sample_db)
    for tmdb_id, key in known.items():
        if tmdb_id in changed:
            assert after[key]["tmdb"]["overview"] == f"Edited overview of {tmdb_id}."
            assert after[key]["enrichment"]["metadata"]["updated_at"] >= before[key]["enrichment"]["metadata"][
                "updated_at"]
        else:
            assert after[key] == before[key], "not listed: not touched"


def test_reprocess_changed_needs_the_key_even_for_a_dry_run(sample_db, tmp_path, cli):
    done = cli(["--input", sample_db, "--reprocess", "changed", "--dry_run"], key=None)
    assert done.returncode == 2 and "needs the API key" in done.stderr
