"""Tests for movie_enrichment.io.database: format detection, round trip, fatal errors, patches, the read transform."""

from __future__ import annotations

import json

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from movie_enrichment.io import database as db
from movie_enrichment.io.database import DatabaseError, ReadMovieDatabase

BOM = b"\xef\xbb\xbf"

# Two movies with unicode, nulls, floats, empty containers and a key order that is not alphabetical.
MOVIES = {
    "Zodiac": {"year": 2007, "title": "Zodiac", "rating": 7.7, "tags": [], "extra": {}, "seen": True, "note": None},
    "Amélie": {"title": "Le Fabuleux Destin d'Amélie Poulain", "year": 2001, "director": "Jean-Pierre Jeunet",
               "cast": ["Audrey Tautou", "Mathieu Kassovitz"], "nested": {"b": 1, "a": [1, 2.5, "三"]}},
    "Alien": {"title": "Alien", "year": 1979},
}


def _json(value, indent: int | None) -> bytes:
    """The file a user would have: json.dumps with non-ASCII kept, ending with a newline."""
    if indent is None:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
    return json.dumps(value, ensure_ascii=False, indent=indent).encode("utf-8") + b"\n"


def _parse(data: bytes, name: str = "movies.json"):
    return db.parse_snapshot(f"/data/{name}", data)


def _assert_one_line_error(excinfo, *needles: str) -> str:
    message = str(excinfo.value)
    assert "\n" not in message and "\r" not in message, message
    for needle in needles:
        assert needle.lower() in message.lower(), message
    return message


# --- Format detection -------------------------------------------------------------------------------


def test_object_keyed_by_title_is_detected_with_keys_in_file_order():
    snapshot, items = _parse(_json(MOVIES, 2))
    assert snapshot.format == db.FORMAT_OBJECT
    assert [key for key, _ in items] == ["Zodiac", "Amélie", "Alien"]
    assert dict(items) == MOVIES


def test_array_is_detected_and_keyed_by_index():
    records = list(MOVIES.values())
    snapshot, items = _parse(_json(records, 2))
    assert snapshot.format == db.FORMAT_ARRAY
    assert items == [("#0", records[0]), ("#1", records[1]), ("#2", records[2])]


def test_json_lines_file_by_suffix_is_detected_and_blank_lines_skipped():
    body = b'{"title":"Alien","year":1979}\n\n{"title":"Am\xc3\xa9lie"}\n'
    snapshot, items = _parse(body, "movies.jsonl")
    assert snapshot.format == db.FORMAT_JSONL
    assert items == [("#0", {"title": "Alien", "year": 1979}), ("#1", {"title": "Amélie"})]


def test_json_lines_content_in_a_dot_json_file_is_detected():
    body = b'{"title":"Alien","year":1979}\n{"title":"Zodiac","year":2007}\n'
    snapshot, items = _parse(body, "movies.json")
    assert snapshot.format == db.FORMAT_JSONL
    assert [record["title"] for _, record in items] == ["Alien", "Zodiac"]


def test_json_lines_bad_line_is_fatal_and_names_the_line():
    with pytest.raises(DatabaseError) as excinfo:
        _parse(b'{"title":"Alien"}\n{"title": \n', "movies.jsonl")
    _assert_one_line_error(excinfo, "JSON Lines", "line 2")


# --- Round trip -------------------------------------------------------------------------------------


@pytest.mark.parametrize("indent", [2, 4, None], ids=["indent2", "indent4", "compact"])
@pytest.mark.parametrize("shape", ["object", "array"])
def test_round_trip_is_byte_identical_for_indentation(indent, shape):
    value = MOVIES if shape == "object" else list(MOVIES.values())
    data = _json(value, indent)
    snapshot, items = _parse(data)
    assert snapshot.indent == indent
    assert snapshot.bom is False
    out = db.serialize(snapshot, items)
    assert out == data
    if indent is None:
        assert out.count(b"\n") == 1  # compact stays on one line


def test_round_trip_keeps_key_order_inside_records():
    snapshot, items = _parse(_json(MOVIES, 4))
    reparsed = json.loads(db.serialize(snapshot, items))
    assert list(reparsed) == list(MOVIES)
    assert list(reparsed["Zodiac"]) == ["year", "title", "rating", "tags", "extra", "seen", "note"]
    assert list(reparsed["Amélie"]["nested"]) == ["b", "a"]


@pytest.mark.parametrize("indent", [2, 4, None])
def test_round_trip_writes_unicode_unescaped(indent):
    # The input escapes non-ASCII; the output keeps every field and writes the characters as UTF-8.
    data = json.dumps(MOVIES, ensure_ascii=True, indent=indent).encode("ascii")
    snapshot, items = _parse(data)
    out = db.serialize(snapshot, items)
    assert json.loads(out) == MOVIES
    assert "Amélie".encode("utf-8") in out and "三".encode("utf-8") in out
    assert b"\\u00e9" not in out


@pytest.mark.parametrize("indent", [2, 4, None])
def test_round_trip_preserves_bom(indent):
    data = BOM + _json(MOVIES, indent)
    snapshot, items = _parse(data)
    assert snapshot.bom is True
    assert dict(items) == MOVIES
    assert db.serialize(snapshot, items) == data


def test_json_lines_round_trip_and_bom():
    data = BOM + b'{"title":"Am\xc3\xa9lie","year":2001}\n{"title":"Alien","tags":[]}\n'
    snapshot, items = _parse(data, "movies.jsonl")
    assert snapshot.bom is True
    assert db.serialize(snapshot, items) == data


def test_serialize_without_bom_does_not_add_one():
    snapshot, items = _parse(_json(MOVIES, 2))
    assert not db.serialize(snapshot, items).startswith(BOM)


# --- Fatal inputs -----------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"   \n\t \r\n", BOM, BOM + b"  \n"], ids=["empty", "whitespace", "bom", "bom+ws"])
def test_empty_input_is_fatal(data):
    with pytest.raises(DatabaseError) as excinfo:
        _parse(data)
    _assert_one_line_error(excinfo, "empty", "/data/movies.json")


def test_not_json_names_line_and_column():
    with pytest.raises(DatabaseError) as excinfo:
        _parse(b'{"Alien": {"year": 1979},\n "Zodiac": x}\n')
    message = _assert_one_line_error(excinfo, "not valid JSON", "line 2", "column")
    assert "/data/movies.json" in message


def test_truncated_json_is_fatal():
    data = _json(MOVIES, 2)
    with pytest.raises(DatabaseError) as excinfo:
        _parse(data[: len(data) // 2])
    _assert_one_line_error(excinfo, "not valid JSON", "line")


def test_invalid_utf8_is_fatal_with_offset():
    with pytest.raises(DatabaseError) as excinfo:
        _parse(b'{"Alien": {"title": "Ali\xffen"}}')
    _assert_one_line_error(excinfo, "UTF-8", "offset 24")


@pytest.mark.parametrize("data, kind", [(b'"Alien"', "a string"), (b"1979", "a number"), (b"7.5", "a number"),
                                        (b"null", "null"), (b"true", "a boolean")])
def test_top_level_scalar_is_fatal(data, kind):
    with pytest.raises(DatabaseError) as excinfo:
        _parse(data)
    _assert_one_line_error(excinfo, "must be a JSON object", kind)


def test_list_of_strings_holds_no_records():
    with pytest.raises(DatabaseError) as excinfo:
        _parse(b'["Alien", "Zodiac"]')
    _assert_one_line_error(excinfo, "no movie records", "a string")


def test_object_of_numbers_holds_no_records():
    with pytest.raises(DatabaseError) as excinfo:
        _parse(b'{"Alien": 1979, "Zodiac": 2007.5}')
    _assert_one_line_error(excinfo, "no movie records", "a number")


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity"])
def test_nan_and_infinity_literals_are_fatal(literal):
    with pytest.raises(DatabaseError) as excinfo:
        _parse(b'{"Alien": {"rating": ' + literal + b"}}")
    _assert_one_line_error(excinfo, "not valid JSON", "line 1")


def test_missing_file_is_fatal(tmp_path):
    path = str(tmp_path / "nope.json")
    with pytest.raises(DatabaseError) as excinfo:
        db.load(path)
    _assert_one_line_error(excinfo, "not found", path)


def test_directory_is_fatal(tmp_path):
    with pytest.raises(DatabaseError) as excinfo:
        db.load(str(tmp_path))
    _assert_one_line_error(excinfo, "directory")


def test_load_reads_a_real_file(tmp_path):
    path = tmp_path / "movies.json"
    path.write_bytes(_json(MOVIES, 2))
    snapshot, items = db.load(str(path))
    assert snapshot.path == str(path) and snapshot.data == path.read_bytes()
    assert dict(items) == MOVIES


def test_mixed_records_are_accepted_and_round_trip():
    data = b'[{"title": "Alien"}, 42, "stray", null, {"title": "Zodiac"}]\n'
    snapshot, items = _parse(data)
    assert [record for _, record in items] == [{"title": "Alien"}, 42, "stray", None, {"title": "Zodiac"}]
    assert json.loads(db.serialize(snapshot, items)) == json.loads(data)


# --- Patches ----------------------------------------------------------------------------------------


def test_apply_patches_sets_top_level_fields_and_keeps_the_rest_identical():
    items = list(MOVIES.items()) + [("stray", 42)]
    patches = {"Alien": {"tmdb": {"id": 348}, "year": 1980}, "stray": {"tmdb": {"id": 1}}}
    out = list(db.apply_patches(items, patches))
    assert [key for key, _ in out] == ["Zodiac", "Amélie", "Alien", "stray"]
    assert out[0][1] is MOVIES["Zodiac"] and out[1][1] is MOVIES["Amélie"]
    assert out[2][1] == {"title": "Alien", "year": 1980, "tmdb": {"id": 348}}
    assert list(out[2][1]) == ["title", "year", "tmdb"]
    assert out[3][1] == 42  # a non-object record is never patched
    assert MOVIES["Alien"] == {"title": "Alien", "year": 1979}  # the input record is not mutated


def test_patched_file_round_trip_keeps_format():
    data = _json(MOVIES, 4)
    snapshot, items = _parse(data)
    out = db.serialize(snapshot, db.apply_patches(items, {"Zodiac": {"tmdb": {"id": 1949}}}))
    expected = json.loads(data)
    expected["Zodiac"]["tmdb"] = {"id": 1949}
    assert out == _json(expected, 4)


# --- The read transform -----------------------------------------------------------------------------


@pytest.mark.slow
def test_read_movie_database_outputs_records_and_one_snapshot(tmp_path):
    path = tmp_path / "movies.json"
    data = BOM + _json(MOVIES, 4)
    path.write_bytes(data)
    expected_snapshot = db.parse_snapshot(str(path), data)[0]
    assert (expected_snapshot.format, expected_snapshot.bom, expected_snapshot.indent) == (db.FORMAT_OBJECT, True, 4)
    with BeamTestPipeline() as pipeline:
        outputs = pipeline | ReadMovieDatabase(str(path))
        assert_that(outputs.records, equal_to(list(MOVIES.items())), label="Records")
        assert_that(outputs.snapshot, equal_to([expected_snapshot]), label="Snapshot")


def test_a_snapshot_travels_without_its_bytes_and_the_sink_checks_the_file_it_reads_again(tmp_path):
    import pickle

    path = tmp_path / "movies.json"
    path.write_bytes(b'{"A": {"title": "A"}}')
    snapshot, items = db.load(str(path))
    shipped = pickle.loads(pickle.dumps(snapshot.without_bytes()))  # the same pickle in every process
    assert shipped.data is None and shipped == snapshot, "equal: the same file, by size and CRC-32"
    assert len(pickle.dumps(snapshot.without_bytes())) < len(pickle.dumps(snapshot))
    assert shipped.bytes() == path.read_bytes(), "read again, and checked"
    assert db.records(shipped) == items
    path.write_bytes(b'{"B": {"title": "B"}}')
    with pytest.raises(DatabaseError, match="changed while the run"):
        shipped.bytes()


def test_the_read_emits_its_snapshot_without_the_bytes(tmp_path):
    path = tmp_path / "movies.json"
    path.write_bytes(_json(MOVIES, 2))
    with BeamTestPipeline() as pipeline:
        outputs = pipeline | ReadMovieDatabase(str(path))
        assert_that(outputs.snapshot | beam.Map(lambda snapshot: snapshot.data), equal_to([None]))


def test_the_sink_parses_only_the_records_it_changes_and_writes_the_same_bytes():
    data = BOM + b'{\n    "Am\\u00e9lie": {"year": 2001, "id": 123456789012345678901234567890},\n' \
                 b'    "Alien": {"year": 1979, "rating": 8.30}\n}\n'
    snapshot, items = _parse(data)
    partial = db.records(snapshot, wanted={"Amélie"})
    assert partial == [("Amélie", {"year": 2001, "id": 123456789012345678901234567890}), ("Alien", db.UNPARSED)]
    patches = {"Amélie": {"tmdb": {"id": 194}}}
    assert db.serialize(snapshot, db.apply_patches(partial, patches), changed=patches.keys()) == \
        db.serialize(snapshot, db.apply_patches(items, patches), changed=patches.keys())
    with pytest.raises(TypeError):
        db.serialize(snapshot, partial)  # written afresh, an unparsed record is refused, never written as null
