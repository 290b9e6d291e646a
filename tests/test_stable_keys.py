"""Issue 23, point 1: a record of an array or JSON Lines file is named by its id field, or its title and year, not
by a position that shifts when a scraper inserts a film; in the review list, the failures, --pins, --titles, the
dry run and the report (`transforms/naming.py`)."""

import orjson
import pytest
from conftest import API_KEY, load
from test_pins_and_leftovers import args

from movie_enrichment.io import database
from movie_enrichment.testing import corpus
from movie_enrichment.testing.tmdb_server import Faults, TmdbServer
from movie_enrichment.transforms import naming

PSYCHO = {"title": "Psycho", "year": 1960}  # 539
EMMA = {"title": "Emma", "year": 1996}  # ambiguous: 900050 and 900051
NOWHERE = {"title": "Qwxzv Plorth", "year": 2001}  # not found
HEAT = {"title": "Heat", "year": 1995}


def items(records):
    return [(database.position_key(index), record) for index, record in enumerate(records)]


def names(records, key_field=None):
    chosen = naming.decide(items(records), key_field)
    return chosen, [chosen.name(key, record) for key, record in items(records)]


def test_the_id_field_names_records_when_every_record_has_its_own():
    chosen, named = names([{"film_id": "f1", **PSYCHO}, {"film_id": "f2", **EMMA}])
    assert named == ["f1", "f2"] and chosen.describe() == "id field 'film_id'"
    for field in ("id", "_id", "ID", "movieId", "uuid"):  # spelled as exports spell them
        assert names([{field: 7, **PSYCHO}, {field: 8, **EMMA}])[1] == ["7", "8"], field
    # An id field some record lacks, or shares, is no id: title and year name them instead.
    assert names([{"id": 1, **PSYCHO}, EMMA])[1] == ["Psycho (1960)", "Emma (1996)"]
    assert names([{"id": 1, **PSYCHO}, {"id": 1, **EMMA}])[1] == ["Psycho (1960)", "Emma (1996)"]
    # TMDB and IMDb ids are match inputs a user corrects, not names.
    assert names([{"imdb_id": "tt0054215", **PSYCHO}])[1] == ["Psycho (1960)"]


def test_title_and_year_name_records_and_shared_or_missing_ones_keep_their_position():
    chosen, named = names([PSYCHO, {"title": "Emma", "year": 1996}, {"Title": "Emma", "Year": "1996"},
                           {"title": "Brazil"}, {"rating": 5}, "not a record"])
    assert named == ["Psycho (1960)", "#1", "#2", "Brazil", "#4", "#5"]
    assert chosen.describe() == ('title and year, as "Heat (1995)"; 3 records keep their position (#N): no name '
                                 "of their own, or one another record has too")
    assert chosen.warning() is None, "the default says it in the dry run, not as a warning"
    assert chosen.names("#0", PSYCHO) == ("Psycho (1960)", "#0"), "a pin or --titles entry may give either"
    assert names([{"rating": 5}, {"rating": 6}])[1] == ["#0", "#1"]
    assert naming.decide(items([{"rating": 5}])).describe().startswith("position (#0, #1, ...)")


def test_key_field_names_records_by_fields_or_roles_and_warns_of_the_ones_it_cannot_name():
    records = [{"code": "x", **PSYCHO}, {"code": "x", **NOWHERE}, EMMA, {"code": "e", **EMMA}]
    chosen, named = names(records, "code")
    assert named == ["#0", "#1", "#2", "e"]
    assert chosen.warning() == ("warning: 3 records have no name of their own under --key_field code (no value, or "
                                "one another record has too): named by position (#N) in the review list, "
                                "failures, --pins and --titles")
    # Roles are read as the match reads them: "Release Date" is the year.
    assert names([{"Name": "Heat", "Release Date": "Dec 15, 1995"}], "title+year")[1] == ["Heat (1995)"]
    assert names([{"ids": {"letterboxd": "abc"}, **HEAT}], "ids.letterboxd")[1] == ["abc"]
    with pytest.raises(naming.KeyFieldError, match="--key_field takes"):
        naming.parse_key_field("title+")


def test_the_format_is_told_from_the_first_bytes_where_it_can_be():
    head = database.format_from_head
    assert head("m.json", b'\xef\xbb\xbf [{"title": "Heat"}') == database.FORMAT_ARRAY
    assert head("m.json", b'{"title": "Heat"}\n{"title": "Alien"}\n') == database.FORMAT_JSONL
    assert head("m.jsonl", b'{"Heat": {') == database.FORMAT_JSONL
    assert head("m.json", b'{\n  "Heat": {\n') == database.FORMAT_OBJECT
    assert head("m.json", b'{"Heat": {"year": 1995}}\n') is None, "a keyed file on one line, or one JSON line"
    assert head("m.json", b'{"Heat": {"year": 19') is None, "no whole first line"


# -- runs against the local server -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server():  # one for the module: its runs are independent
    with TmdbServer(catalog=corpus.full_catalog(), api_key=API_KEY) as running:
        yield running


def review_keys(db) -> list[str]:
    path = db.parent / (db.name + ".review.jsonl")
    return [orjson.loads(line)["key"] for line in path.read_bytes().splitlines()] if path.exists() else []


def write_array(path, records):
    path.write_bytes(b"[\n" + b",\n".join(orjson.dumps(r) for r in records) + b"\n]\n")


@pytest.mark.slow  # whole runs, as test_pins_and_leftovers' are
def test_a_pin_by_id_still_pins_its_film_after_a_film_is_inserted_at_the_top_where_a_position_would_not(
        server, tmp_path, cli):
    by_id, by_position = tmp_path / "by_id.json", tmp_path / "by_position.json"
    films = [{"film_id": "f1", **PSYCHO}, {"film_id": "f2", **EMMA}, {"film_id": "f3", **NOWHERE}]
    for db in (by_id, by_position):
        write_array(db, films)
        done = cli(args(server, db))
        assert done.returncode == 0, done.stderr
        assert review_keys(db) == ["f2", "f3"], "the review list names them by their id field, not #1, #2"
    assert load(tmp_path / "by_id.json.report.json")["records_named_by"] == "id field 'film_id'"
    # Emma is #1 in that list; then the scraper inserts a film at the top, and Emma is #2.
    for db in (by_id, by_position):
        write_array(db, [{"film_id": "f0", **HEAT}] + load(db))
    (tmp_path / "id_pins.csv").write_text("f2,900051\n")
    (tmp_path / "position_pins.csv").write_text("#1,900051\n")
    done = cli(args(server, by_id, "--pins", tmp_path / "id_pins.csv"))
    assert done.returncode == 0, done.stderr
    heat, psycho, emma, nowhere = load(by_id)
    assert (heat["tmdb"]["id"], psycho["tmdb"]["id"], emma["tmdb"]["id"]) == (949, 539, 900051)
    assert nowhere["tmdb"] is None and review_keys(by_id) == ["f3"]
    done = cli(args(server, by_position, "--pins", tmp_path / "position_pins.csv"))
    assert done.returncode == 0, done.stderr
    assert load(by_position)[1]["tmdb"]["id"] == 900051, "the position pin now lands on Psycho"
    assert review_keys(by_position) == ["f2", "f3"]


@pytest.mark.slow  # whole runs, as test_pins_and_leftovers' are
def test_json_lines_named_by_title_and_year_in_pins_titles_review_and_report(server, tmp_path, cli):
    db = tmp_path / "movies.jsonl"
    db.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in (PSYCHO, EMMA, NOWHERE)))
    done = cli(args(server, db))
    assert done.returncode == 0, done.stderr
    assert review_keys(db) == ["Emma (1996)", "Qwxzv Plorth (2001)"]
    report = load(tmp_path / "movies.jsonl.report.json")
    assert report["records_named_by"] == 'title and year, as "Heat (1995)"'
    # A quoted name, as CSV quotes it; one that names no film is warned about and counted.
    (tmp_path / "pins.csv").write_text('"Emma (1996)",900050\nNo Such Film (1999),603\n')
    (tmp_path / "titles.txt").write_text("Emma (1996)\nNo Such Film (1999)\n")
    done = cli(args(server, db, "--pins", tmp_path / "pins.csv", "--titles", tmp_path / "titles.txt"))
    assert done.returncode == 0, done.stderr
    assert [line for line in done.stderr.splitlines() if "No Such Film" in line] == [
        "movie-enrich: 1 --titles entry matches no movie of the database (neither a key nor a title): "
        "'No Such Film (1999)'; 1 --pins entry matches no movie of the database (no record has that key): "
        "'No Such Film (1999)'"], done.stderr
    report = load(tmp_path / "movies.jsonl.report.json")
    assert (report["pins_unmatched"], report["titles_unmatched"], report["movies_looked_up"]) == (1, 1, 1)
    assert [(r.get("tmdb") or {}).get("id") for r in map(orjson.loads, db.read_bytes().splitlines())] == [
        539, 900050, None]
    assert review_keys(db) == ["Qwxzv Plorth (2001)"]


@pytest.mark.slow  # whole runs, as test_pins_and_leftovers' are
def test_failures_are_named_as_the_review_list_names_them(tmp_path, cli):
    db = tmp_path / "movies.json"
    write_array(db, [{"film_id": "f1", **PSYCHO}, {"film_id": "f2", **HEAT}])
    with TmdbServer(catalog=corpus.full_catalog(), api_key=API_KEY, faults=Faults(error_5xx=1.0)) as failing:
        done = cli(args(failing, db, "--http_retries", "0", "--tmdb_down_after", "0", "--enrich", "metadata"))
    assert done.returncode == 5, done.stderr
    listed = [orjson.loads(line) for line in (tmp_path / "movies.json.failures.jsonl").read_bytes().splitlines()]
    assert [(f["key"], f["enricher"]) for f in listed] == [("f1", "metadata"), ("f2", "metadata")]


@pytest.mark.slow  # whole runs, as test_pins_and_leftovers' are
def test_key_field_that_cannot_name_every_record_warns_once_and_keeps_positions(server, tmp_path, cli):
    db = tmp_path / "movies.json"
    write_array(db, [{"code": "x", **PSYCHO}, {"code": "x", **NOWHERE}, {"title": "Plorth Qwxzv"},
                     {"code": "e", **EMMA}])
    done = cli(args(server, db, "--key_field", "code"))
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if "--key_field" in line]
    assert warnings == ["movie-enrich: warning: 3 records have no name of their own under --key_field code (no "
                        "value, or one another record has too): named by position (#N) in the review list, "
                        "failures, --pins and --titles"], done.stderr
    assert review_keys(db) == ["#1", "#2", "e"]
    assert load(tmp_path / "movies.json.report.json")["records_named_by"] == (
        "--key_field code; 3 records keep their position (#N): no name of their own, or one another record has "
        "too")


def test_dry_run_says_how_records_are_named(server, tmp_path, cli):
    cases = {"ids.json": ([{"film_id": "f1", **PSYCHO}, {"film_id": "f2", **EMMA}],
                          "  records named by: id field 'film_id' (--key_field FIELD to choose)",
                          '  sample: f1 "Psycho" (1960); f2 "Emma" (1996)'),
             "titles.json": ([PSYCHO, EMMA], '  records named by: title and year, as "Heat (1995)" (--key_field '
                             "FIELD to choose)", "  sample: Psycho (1960); Emma (1996)"),
             "bare.json": ([{"rating": 5}], "  records named by: position (#0, #1, ...): no id field of its own in "
                           "every record, and no titles (--key_field FIELD to choose)", "  sample: #0")}
    for name, (records, said, sample) in cases.items():
        write_array(tmp_path / name, records)
        done = cli(args(server, tmp_path / name, "--dry_run"))
        assert done.returncode == 0, done.stderr
        assert said in done.stdout.splitlines() and sample in done.stdout.splitlines(), done.stdout
    keyed = tmp_path / "keyed.json"
    keyed.write_bytes(orjson.dumps({"Heat": HEAT}, option=orjson.OPT_INDENT_2))
    done = cli(args(server, keyed, "--dry_run"))
    assert done.returncode == 0 and "records named by" not in done.stdout, done.stdout


def test_key_field_is_refused_where_keys_name_the_records(server, tmp_path, cli):
    keyed = tmp_path / "keyed.json"
    keyed.write_bytes(orjson.dumps({"Heat": HEAT}, option=orjson.OPT_INDENT_2))
    before = keyed.read_bytes()
    done = cli(args(server, keyed, "--key_field", "title"))
    assert done.returncode == 2
    assert done.stderr == (f"movie-enrich: error: --key_field would be ignored: {keyed} is a keyed object file, "
                           "whose records are named by their keys\n")
    assert keyed.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["keyed.json"]
    done = cli(args(server, f"sqlite:///{tmp_path}/movies.db", "--key_field", "title"))
    assert done.returncode == 2 and "--key_field would be ignored: a database's rows are named by their keys" in \
        done.stderr, done.stderr
    done = cli(args(server, keyed, "--key_field", "title++year"))
    assert done.returncode == 2 and "--key_field takes a field or fields joined by +" in done.stderr


def test_the_lookup_with_a_naming_ships_with_plain_cloudpickle_and_pins_by_name():
    import cloudpickle

    from movie_enrichment.io.tmdb import TmdbSettings
    from movie_enrichment.model import LookupRequest
    from movie_enrichment.transforms import fields
    from movie_enrichment.transforms.lookup import LookupTmdbFn, MovieLookup

    chosen = naming.decide(items([{"film_id": "f1", **PSYCHO}, {"film_id": "f2", **EMMA}]))
    settings = TmdbSettings(api_key="k")
    shipped = cloudpickle.loads(cloudpickle.dumps(LookupTmdbFn(settings, pins={"f2": "tmdb:900051"}, naming=chosen)))
    assert shipped._movie.naming == chosen
    movie = MovieLookup(settings, pins={"f2": "tmdb:900051"}, naming=chosen)
    request = LookupRequest("#0", {"film_id": "f2", **EMMA}, ("metadata",))  # Emma, at another position now
    hit, query = movie.prepare(request, fields.DEFAULT_ROLES)
    assert hit.pinned == "tmdb:900051" and query.tmdb_id == 900051


def test_the_launch_api_takes_key_field_as_the_command_line_does(tmp_path):
    from movie_enrichment import api

    db = tmp_path / "movies.json"
    write_array(db, [{"film_id": "f1", **PSYCHO}])
    assert api.check_options(str(db), tmdb_api_key=API_KEY, key_field="title+year")["input"] == str(db)
    with pytest.raises(api.OptionError, match="^--key_field takes a field or fields joined by"):
        api.check_options(str(db), tmdb_api_key=API_KEY, key_field="film_id+")
