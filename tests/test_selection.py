"""Which movies each --reprocess mode and --titles select, as a function and through the command."""

import datetime

import orjson
import pytest

from movie_enrichment.transforms.selection import Selector, fingerprint, read_titles

NOW = datetime.datetime(2026, 11, 25, tzinfo=datetime.timezone.utc)
OLD, NEW = "2026-01-01T00:00:00Z", "2026-11-20T00:00:00Z"


def outcome(status, when=NEW):
    return {"status": status, "updated_at": when}


DB = {
    "never": {"title": "Never"},
    "ok-new": {"title": "Ok New", "enrichment": {"metadata": outcome("ok"), "images": outcome("ok")}},
    "ok-old": {"title": "Ok Old", "enrichment": {"metadata": outcome("ok", OLD), "images": outcome("ok", OLD)}},
    "failed": {"title": "Failed", "enrichment": {"metadata": outcome("failed"), "images": outcome("failed")}},
    "not-found": {"title": "Nf", "enrichment": {"metadata": outcome("not_found"), "images": outcome("not_found")}},
    "ambiguous": {"title": "Amb", "enrichment": {"metadata": outcome("ambiguous"),
                                                  "images": outcome("ambiguous")}},
    "half": {"title": "Half", "enrichment": {"metadata": outcome("ok")}},
    "invalid": {"title": "", "enrichment": {"metadata": outcome("invalid"), "images": outcome("invalid")}},
    "not-a-record": 42,
}


def selected(selector):
    return {key: needed for key, record in DB.items() if (needed := selector.needed(key, record))}


BOTH = ("metadata", "images")


@pytest.mark.parametrize("mode, want", [
    ("missing", {"never": BOTH, "failed": BOTH, "half": ("images",)}),
    ("failed", {"failed": BOTH}),
    ("not_found", {"not-found": BOTH, "ambiguous": BOTH}),
    ("all", {k: BOTH for k in DB if k != "not-a-record"}),
])
def test_each_reprocess_mode_selects_exactly_its_movies(mode, want):
    assert selected(Selector(mode=mode)) == want


def test_stale_selects_old_outcomes_failures_and_movies_never_enriched():
    stale = Selector(mode="stale", stale_before=NOW - datetime.timedelta(days=30))
    assert selected(stale) == {"never": BOTH, "failed": BOTH, "ok-old": BOTH, "half": ("images",)}


def test_enrich_option_limits_the_enrichers():
    assert selected(Selector(enrichers=("metadata",))) == {"never": ("metadata",), "failed": ("metadata",)}


def test_a_block_derived_with_other_options_is_derived_again_but_stored_images_satisfy_a_plain_run():
    german = {"metadata": {"language": "de-DE"}, "images": {"image_languages": "de,null,en"}}
    stored = {"images": {"download_images": "poster,backdrop"}}
    record = {"title": "Heat", "enrichment": {
        "metadata": {**outcome("ok"), "options": {"language": "de-DE"}},
        "images": {**outcome("ok"), "options": {"image_languages": "de,null,en", "download_images": "poster,backdrop"}}}}
    assert Selector(derived_with=german).needed("Heat", record) == (), "stored images satisfy a run without"
    assert Selector().needed("Heat", record) == BOTH, "other languages: derived again"
    with_downloads = {**german, "images": {"image_languages": "de,null,en", "download_images": "poster,backdrop"}}
    assert Selector(derived_with=with_downloads).needed("Heat", record) == ()
    logos = {**german, "images": {"image_languages": "de,null,en", "download_images": "poster,backdrop,logo"}}
    assert Selector(derived_with=logos).needed("Heat", record) == ("images",), "the logo is to be stored too"
    assert Selector(derived_with={**german, **stored}).needed("Heat", {"title": "Heat", "enrichment": {
        "metadata": {**outcome("ok"), "options": {"language": "de-DE"}}, "images": outcome("ok")}}) == ("images",)


def test_titles_limit_by_key_or_title():
    titles = read_titles(["# comment", "never", "", "  Failed  ", "Ok New"])
    assert titles == {"never", "Failed", "Ok New"}
    assert selected(Selector(mode="all", titles=titles)) == {"never": BOTH, "failed": BOTH, "ok-new": BOTH}


def test_fingerprint_ignores_what_the_tool_wrote():
    plain = {"title": "X", "year": 1999}
    assert fingerprint(plain) == fingerprint({**plain, "tmdb": {"id": 1}, "enrichment": {}})
    assert fingerprint(plain) != fingerprint({**plain, "year": 2000})


@pytest.mark.slow
def test_reprocess_through_the_command_requests_only_the_selected(tmdb_server, tmp_path, cli):
    db = tmp_path / "movies.json"
    db.write_bytes(orjson.dumps({
        "Psycho": {"title": "Psycho", "year": 1960, "enrichment": {"metadata": outcome("failed"),
                                                                  "images": outcome("failed")}},
        "The Matrix": {"title": "The Matrix", "year": 1999, "enrichment": {"metadata": outcome("ok"),
                                                                          "images": outcome("ok")}},
    }))
    (tmp_path / "titles.txt").write_text("The Matrix\n")
    args = ["--input", db, "--tmdb_base_url", tmdb_server.url, "--no_http_cache", "--progress", "off"]
    done = cli(args + ["--reprocess", "ok_typo"])
    assert done.returncode == 2 and "invalid choice" in done.stderr

    assert cli(args + ["--reprocess", "failed"]).returncode == 0
    result = orjson.loads(db.read_bytes())
    assert result["Psycho"]["enrichment"]["metadata"]["status"] == "ok"
    assert result["The Matrix"]["enrichment"]["metadata"]["updated_at"] == NEW, "not selected, not touched"
    searches = tmdb_server.counts()["by_endpoint"].get("search/movie", 0)
    assert searches == 1

    tmdb_server.reset_counts()
    assert cli(args + ["--reprocess", "all", "--titles", tmp_path / "titles.txt"]).returncode == 0
    result = orjson.loads(db.read_bytes())
    assert result["The Matrix"]["enrichment"]["metadata"]["updated_at"] != NEW
    assert result["The Matrix"]["tmdb"]["title"] == "The Matrix"
    assert tmdb_server.counts()["by_endpoint"].get("search/movie", 0) == 1

    tmdb_server.reset_counts()
    assert cli(args).returncode == 0
    assert tmdb_server.counts()["total"] == 0, "a fully enriched database makes no request"
