"""A database that holds a key twice, through the command: said out loud, kept in the backup, or refused."""

import orjson
import pytest
from conftest import tree

from movie_enrichment.io import database

# Hand-merged scraper output: "Psycho" twice, the second record the one to keep; "Vertigo" three times.
TWICE = b"""{
  "Psycho": {"title": "Psycho", "year": 1960, "note": "first scrape"},
  "Vertigo": {"title": "Vertigo", "year": 1958, "budget": 2479000, "note": "v1"},
  "Psycho": {"title": "Psycho", "year": 1960, "director": "Alfred Hitchcock", "gross": 123456789012345678901234567890},
  "Vertigo": {"title": "Vertigo", "year": 1958, "note": "v2"},
  "Rear Window": {"title": "Rear Window", "year": 1954, "rating": 8.30},
  "Vertigo": {"title": "Vertigo", "year": 1958, "director": "Alfred Hitchcock", "note": "v3"}
}
"""


@pytest.fixture
def twice(tmp_path):
    path = tmp_path / "db" / "movies.json"
    path.parent.mkdir()
    path.write_bytes(TWICE)
    return path


def args(server, path, *extra):
    return ["--input", path, "--tmdb_base_url", server.url, "--no_http_cache", "--progress", "off",
            "--max_requests_per_second", "0", *extra]


@pytest.mark.slow
def test_keep_last_says_so_in_one_line_and_the_backup_keeps_the_earlier_records(tmdb_server, twice, cli):
    done = cli(args(tmdb_server, twice))
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if "more than once" in line]
    assert len(warnings) == 1, done.stderr
    backup = next((twice.parent / "backups").iterdir())
    assert warnings[0] == (
        'movie-enrich: warning: the input holds 2 keys more than once ("Psycho" (2 times), "Vertigo" (3 times)): '
        f"the last record of each was kept; the earlier ones are in {backup}")
    assert backup.read_bytes() == TWICE  # the only place the dropped records survive
    written = dict(database.load(str(twice))[1])  # read exactly (orjson would turn the big integer to a float)
    assert list(written) == ["Psycho", "Vertigo", "Rear Window"]
    assert written["Psycho"]["gross"] == 123456789012345678901234567890  # the last one, every digit
    assert written["Vertigo"]["note"] == "v3" and written["Psycho"]["enrichment"]["metadata"]["status"] == "ok"
    report = orjson.loads((twice.parent / "movies.json.report.json").read_bytes())
    assert report["duplicate_keys"] == {
        "count": 2, "keys": [{"key": "Psycho", "times": 2}, {"key": "Vertigo", "times": 3}],
        "kept": "the last record of each", "earlier_records_in": str(backup)}
    assert "duplicate keys 2" in done.stdout


@pytest.mark.slow
def test_fail_stops_before_anything_is_written_or_requested(tmdb_server, twice, cli):
    before = tree(twice.parent)
    done = cli(args(tmdb_server, twice, "--on_duplicate_keys", "fail"))
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith('movie-enrich: error: input holds 2 keys more than once: "Psycho" (2 times), '
                               '"Vertigo" (3 times); nothing was written'), lines[0]
    after = {name: data for name, data in tree(twice.parent).items() if not name.startswith("movies.json.")}
    assert after == before and tmdb_server.counts()["total"] == 0


@pytest.mark.parametrize("policy", [database.KEEP_LAST, database.FAIL])
def test_dry_run_shows_the_duplicates_before_anything_is_written(tmdb_server, twice, cli, policy):
    before = tree(twice.parent)
    done = cli(args(tmdb_server, twice, "--dry_run", "--on_duplicate_keys", policy))
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if "duplicate keys" in line)
    assert '2 keys held more than once: "Psycho" (2 times), "Vertigo" (3 times)' in line
    assert ("would stop here" in line) == (policy == database.FAIL)
    assert tree(twice.parent) == before and tmdb_server.counts()["total"] == 0


@pytest.mark.slow
def test_an_untouched_record_keeps_its_bytes_beside_duplicates_in_another_file(tmdb_server, tmp_path, cli):
    """With --titles only one film is looked up: every other record comes back as written (8.30 included)."""
    path = tmp_path / "movies.json"
    path.write_bytes(TWICE.replace(b'  "Vertigo": {"title": "Vertigo", "year": 1958, "note": "v2"},\n', b"")
                     .replace(b'  "Vertigo": {"title": "Vertigo", "year": 1958, "budget": 2479000, "note": "v1"},\n',
                              b"")
                     .replace(b'  "Psycho": {"title": "Psycho", "year": 1960, "note": "first scrape"},\n', b""))
    titles = tmp_path / "titles.txt"
    titles.write_text("Psycho\n", encoding="utf-8")
    done = cli(args(tmdb_server, path, "--titles", titles))
    assert done.returncode == 0, done.stderr
    assert "more than once" not in done.stderr
    out = path.read_bytes()
    assert b'  "Rear Window": {"title": "Rear Window", "year": 1954, "rating": 8.30},\n' in out
    assert b'"gross": 123456789012345678901234567890' in out


@pytest.mark.slow
@pytest.mark.parametrize("spelling", ["dot", "symlink"])
def test_the_input_named_again_as_output_is_enriched_in_place_with_its_backup(tmdb_server, twice, cli, spelling):
    """`--output ./movies.json` or a link to the input is the input: the run writes it in place, keeps its backup,
    and the duplicate-key warning names the backup, where the dropped records are (not the input, rewritten)."""
    if spelling == "dot":
        output = twice.parent / "." / twice.name
    else:
        output = twice.parent / "link.json"
        output.symlink_to(twice)
    done = cli(args(tmdb_server, twice, "--output", output))
    assert done.returncode == 0, done.stderr
    backups = list((twice.parent / "backups").iterdir())
    assert len(backups) == 1 and backups[0].read_bytes() == TWICE
    warning = next(line for line in done.stderr.splitlines() if "more than once" in line)
    assert warning.endswith(f"the earlier ones are in {backups[0]}"), warning
    assert list(dict(database.load(str(twice))[1])) == ["Psycho", "Vertigo", "Rear Window"]
    if spelling == "symlink":
        assert output.is_symlink()  # the link is still the link, the file it names was written


@pytest.mark.slow
def test_a_database_named_through_a_link_is_written_through_it_and_the_link_stays(tmdb_server, twice, cli):
    """`movies.json -> data/movies-2026.json`: the run writes the file the link names, never the link itself."""
    real = twice.parent / "movies-2026.json"
    twice.rename(real)
    twice.symlink_to(real.name)
    done = cli(args(tmdb_server, twice))
    assert done.returncode == 0, done.stderr
    assert twice.is_symlink() and twice.resolve() == real.resolve()
    assert list(dict(database.load(str(real))[1])) == ["Psycho", "Vertigo", "Rear Window"]
    assert [p.read_bytes() for p in (twice.parent / "backups").iterdir()] == [TWICE]
    assert not list(twice.parent.glob("*.tmp*"))
