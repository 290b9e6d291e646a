"""What a new user reads first: `movie-enrich --help` names every subcommand, and the dry run names records of an
array or JSON Lines database by title, not by position alone (issue 23)."""

import re

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
