"""What a new user reads first: `movie-enrich --help` names every subcommand, and the dry run names records of an
array or JSON Lines database by title, not by position alone (issue 23)."""

import re

import orjson

from movie_enrichment import cli


def test_help_lists_every_subcommand_one_line_each(capsys):
    assert cli.main(["--help"]) == 0
    text = capsys.readouterr().out
    commands = text[text.index("\ncommands"):]
    commands = commands[:commands.index("\n\n", 1)]
    lines = {match.group(1): match.group(0) for match in
             re.finditer(r"^  movie-enrich (serve|convert|restore)\b.*$", commands, flags=re.M)}
    assert set(lines) == {"serve", "convert", "restore"}, commands
    assert all(len(line) <= 120 for line in lines.values())


def test_dry_run_sample_of_an_array_names_titles_and_years(tmp_path, cli, tmdb_server):
    """An array (or JSON Lines) file has no keys: the sample showed `#0; #1; #2`, which tells nobody which films a
    run would look up. Its records are named by title and year now (test_stable_keys), and a record that keeps its
    position (its title and year shared) comes with its title and year."""
    db = tmp_path / "movies.json"
    db.write_bytes(orjson.dumps([{"title": "Heat", "year": 1995}, {"title": "Alien", "year": "1979"},
                                 {"title": "Brazil"}, {"title": "Brazil"}]))
    lines = tmp_path / "movies.jsonl"
    lines.write_bytes(b"".join(orjson.dumps(record) + b"\n" for record in orjson.loads(db.read_bytes())))
    for path in (db, lines):
        before = path.read_bytes()
        done = cli(["--input", path, "--dry_run", "--tmdb_base_url", tmdb_server.url])
        assert done.returncode == 0, done.stderr
        (sample,) = [line for line in done.stdout.splitlines() if line.startswith("  sample: ")]
        assert sample == '  sample: Heat (1995); Alien (1979); #2 "Brazil"; #3 "Brazil"', done.stdout
        assert path.read_bytes() == before


def test_dry_run_sample_of_a_keyed_file_is_its_keys(tmp_path, cli, tmdb_server):
    """A key that already says the title stays as it was; a key that does not (an id) gets the title beside it."""
    db = tmp_path / "movies.json"
    db.write_bytes(orjson.dumps({"Heat": {"title": "Heat", "year": 1995},
                                 "Psycho (1998)": {"title": "Psycho", "year": 1998},
                                 "tt0078748": {"title": "Alien", "year": 1979}}))
    done = cli(["--input", db, "--dry_run", "--tmdb_base_url", tmdb_server.url])
    assert done.returncode == 0, done.stderr
    assert '  sample: Heat; Psycho (1998); tt0078748 "Alien" (1979)\n' in done.stdout
