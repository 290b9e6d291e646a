"""Fidelity of the database's reading and writing: every value as written, duplicate keys seen, untouched records
written back byte for byte (movie_enrichment.io.database and io.exactjson)."""

from __future__ import annotations

import json
import math

import orjson
import pytest

from movie_enrichment.io import database as db
from movie_enrichment.io import exactjson
from movie_enrichment.io.database import DatabaseError

# The values of the report that started this: integers beyond 64 bits came back as floats.
BIG = {
    "gross": 123456789012345678901234567890,
    "budget": 12000000000000000000000,
    "two_to_64": 18446744073709551616,
    "below_int64": -9223372036854775809,
    "u64_max": 18446744073709551615,
    "int64_min": -9223372036854775808,
    "digits_in_a_string": "12345678901234567890123",
    "floats": [8.3, 1e-7, 2.5e300, 1.0, -0.0, 5e-324, 1.7976931348623157e308],
    "text": "caf\u00e9 \U0001F600 \" \\ \n \t \u2028 \x00 \x1f",
    "empty": [{}, [], ""],
}
FLOAT_LITERALS = b"[8.30, 1e-7, 2.5e+300, 1.0, -0.0, 1E5, 0.1000000000000000055511151231257827]"


def same(a, b) -> bool:
    """Equal in value AND type, all the way down (1 == 1.0 == True in Python; not here), -0.0 apart from 0.0."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return a == b


def layouts(value) -> dict[str, bytes]:
    """The same database as different tools write it."""
    return {
        "ours_indented": orjson.dumps(value, option=orjson.OPT_INDENT_2) + b"\n"
        if _orjson_can(value) else json.dumps(value, indent=2, ensure_ascii=False).encode() + b"\n",
        "ours_compact": json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode() + b"\n",
        "python_indent_4_ascii": json.dumps(value, indent=4).encode(),
        "tabs_crlf": json.dumps(value, indent="\t", ensure_ascii=False).replace("\n", "\r\n").encode() + b"\r\n",
        "one_line_spaced": json.dumps(value, ensure_ascii=False).encode(),
    }


def _orjson_can(value) -> bool:
    try:
        orjson.dumps(value)
        return True
    except orjson.JSONEncodeError:
        return False


def parse(data: bytes, name: str = "movies.json"):
    return db.parse_snapshot(f"/data/{name}", data)


DATABASE = {"Heat": {"title": "Heat", "year": 1995, **BIG}, "#3": {"title": "Alien", "n": 2 ** 70},
            "": {"title": "Nameless"}, "Zodiac": {"title": "Zodiac", "rating": 7.7}}


@pytest.mark.parametrize("layout", list(layouts(DATABASE)))
def test_every_value_comes_back_with_its_type_in_every_layout(layout):
    data = layouts(DATABASE)[layout]
    snapshot, items = parse(data)
    assert same(dict(items), DATABASE)
    assert [k for k, _ in items] == list(DATABASE)
    assert snapshot.duplicates == ()
    # Nothing changed: the file comes back byte for byte (a line from another tool comes back in our compact
    # form); written afresh, every value still has its type.
    unchanged = db.serialize(snapshot, items, changed=())
    assert unchanged == data if snapshot.layout else unchanged == db.serialize(snapshot, items)
    # One line from another tool (here: integers beyond 64 bits written by Python) is written back afresh.
    assert (snapshot.layout is None) == (layout in ("ours_compact", "one_line_spaced"))
    _, again = parse(db.serialize(snapshot, items))
    assert same(dict(again), DATABASE)


@pytest.mark.parametrize("shape", ["array", "jsonl"])
def test_big_integers_survive_in_arrays_and_json_lines(shape):
    records = list(DATABASE.values())
    if shape == "array":
        data, name = json.dumps(records, indent=2).encode(), "movies.json"
    else:
        data, name = b"".join(json.dumps(r).encode() + b"\n" for r in records), "movies.jsonl"
    snapshot, items = parse(data, name)
    assert same([record for _, record in items], records)
    assert db.serialize(snapshot, items, changed=()) == data
    assert same([r for _, r in parse(db.serialize(snapshot, items), name)[1]], records)


def test_float_literals_stay_floats_with_their_value():
    _, items = parse(b'{"m": {"title": "m", "f": ' + FLOAT_LITERALS + b"}}")
    floats = items[0][1]["f"]
    assert all(type(f) is float for f in floats)
    assert floats[:6] == [8.3, 1e-7, 2.5e300, 1.0, -0.0, 1e5] and math.copysign(1, floats[4]) == -1
    assert floats[6] == 0.1  # more digits than a double holds: the nearest double, as every JSON reader gives


def test_a_patched_record_keeps_its_big_integers_and_the_others_keep_their_bytes():
    data = json.dumps(DATABASE, indent=4).encode()  # Python's layout: 4 spaces, non-ASCII escaped
    snapshot, items = parse(data)
    patch = {"tmdb": {"id": 949, "budget": 2 ** 65}}
    out = db.serialize(snapshot, db.apply_patches(items, {"Heat": patch}), changed={"Heat"})
    after, new_items = parse(out)
    assert same(dict(new_items)["Heat"], {**DATABASE["Heat"], **patch})
    for index, (key, _) in enumerate(items[1:], start=1):
        old = data[snapshot.layout.value_starts[index]:snapshot.layout.value_ends[index]]
        new = out[after.layout.value_starts[index]:after.layout.value_ends[index]]
        assert old == new, key
    # Only the patched record's lines differ from the input.
    assert out.startswith(data[:snapshot.layout.value_starts[0]])
    assert out.endswith(data[snapshot.layout.value_ends[0]:])


def test_our_own_output_comes_back_byte_identical_except_the_patched_record():
    """A file we wrote, patched on one record: every other byte is the same as before the run."""
    database = {f"Film {i}": {"title": f"Film {i}", "year": 1950 + i, "gross": 10 ** 25 + i, "r": i / 7}
                for i in range(50)}
    for indented in (True, False):
        snapshot, items = parse(db.serialize(db.Snapshot("/x.json", b"{}", db.FORMAT_OBJECT,
                                                         indent=2 if indented else None), database.items()))
        data = snapshot.bytes()
        out = db.serialize(snapshot, db.apply_patches(items, {"Film 7": {"tmdb": {"id": 7}}}), changed={"Film 7"})
        unspliced = db.serialize(snapshot, db.apply_patches(items, {"Film 7": {"tmdb": {"id": 7}}}))
        assert out == unspliced  # in our own format, writing afresh gives the same bytes
        start, end = data.index(b'"Film 7"'), data.rindex(b"}", 0, data.index(b'"Film 8"')) + 1
        assert out.startswith(data[:start]) and out.endswith(data[end:])
        assert snapshot.duplicates == ()
        # One-line files holding integers beyond 64 bits are read by the standard library (exact, slower).
        assert exactjson.parse_container(data).path == ("indented" if indented else "general")


def test_the_cheap_paths_are_taken_for_our_own_formats_and_the_general_one_otherwise():
    value = {"a": {"title": "a", "n": 1}, "b": {"title": "b", "n": 10 ** 29}}
    assert exactjson.parse_container(orjson.dumps({"a": value["a"]}, option=orjson.OPT_INDENT_2)).path == "indented"
    assert exactjson.parse_container(json.dumps(value, indent=2).encode()).path == "indented"
    assert exactjson.parse_container(orjson.dumps({"a": value["a"]})).path == "canonical"
    assert exactjson.parse_container(json.dumps(value).encode()).path == "general"
    hand = b'{"a": {"title": "a",\n  "n": 1},\n "b": {"title": "b", "n": 100000000000000000000000000000}}'
    parsed = exactjson.parse_container(hand)
    assert parsed.path == "general" and same(dict(parsed.items), value)


def test_a_nested_line_at_the_top_indentation_is_not_taken_for_a_record():
    data = b'{\n  "a": {"title": "a", "x": {\n  "inner": 1}},\n  "b": {"title": "b"}\n}'
    parsed = exactjson.parse_container(data)
    assert [k for k, _ in parsed.items] == ["a", "b"] and parsed.items[0][1]["x"] == {"inner": 1}
    assert parsed.path == "general"


def test_digits_inside_strings_do_not_send_a_record_to_the_slow_reader():
    line = b'{"id": "123456789012345678901234", "note": "x 123456789012345678901234 y", "n": 12345678901234567}'
    assert exactjson.long_integer_positions(line) == [line.index(b"x 1") + 2]  # a superset, never a miss
    assert exactjson.long_integer_positions(b'{"n": -123456789012345678901}') == [7]
    assert exactjson.long_integer_positions(b'{"n": 1234567890123456789012.5, "e": 1e1234567890123456789}') == []
    assert exactjson.long_integer_positions(b"[18446744073709551615, -9223372036854775808]") == []


def test_an_integer_of_more_than_4300_digits_is_refused_in_one_line():
    data = b'{\n  "a": {"title": "a", "n": ' + b"7" * 5000 + b"}\n}"
    with pytest.raises(DatabaseError) as excinfo:
        parse(data)
    assert "4300 digits" in str(excinfo.value) and "\n" not in str(excinfo.value)


@pytest.mark.parametrize("literal", [b"1e400", b"-1e400", b"NaN", b"Infinity", b'"\\ud800"', b'"\\udc00 x"'])
@pytest.mark.parametrize("indented", [True, False])
def test_what_json_or_a_double_cannot_hold_is_refused_not_changed(literal, indented):
    sep = b"\n  " if indented else b" "
    data = b"{" + sep + b'"a": {"title": "a", "v": ' + literal + b"}," + sep + b'"b": {"title": "b"}\n}'
    with pytest.raises(DatabaseError) as excinfo:
        parse(data)
    assert "\n" not in str(excinfo.value)


def test_astral_characters_and_escaped_surrogate_pairs_are_read_as_characters():
    data = '{\n  "\U0001F3AC": {"title": "\\ud83c\\udfac \U0001D11E \\u00e9"}\n}'.encode()
    snapshot, items = parse(data)
    assert items == [("\U0001F3AC", {"title": "\U0001F3AC \U0001D11E \u00e9"})]
    assert db.serialize(snapshot, items, changed=()) == data


# --- Duplicate keys ----------------------------------------------------------------------------------

HEAT_TWICE = (b'{\n  "Heat": {"title": "Heat", "version": 1},\n  "Alien": {"title": "Alien"},\n'
              b'  "Heat": {"title": "Heat", "director": "Michael Mann", "version": 2},\n'
              b'  "Alien": {"title": "Alien", "version": 2},\n  "Alien": {"title": "Alien", "version": 3}\n}\n')


@pytest.mark.parametrize("layout", ["indented", "one line"])
def test_duplicate_keys_are_counted_and_the_last_record_kept_at_the_first_place(layout):
    data = HEAT_TWICE if layout == "indented" else b" ".join(HEAT_TWICE.split())
    snapshot, items = parse(data)
    assert snapshot.duplicates == (("Heat", 2), ("Alien", 3))
    assert [k for k, _ in items] == ["Heat", "Alien"]
    assert dict(items)["Heat"]["version"] == 2 and dict(items)["Alien"]["version"] == 3
    # The output holds each key once (the earlier records are only in the backup).
    out = db.serialize(snapshot, items, changed={"Heat"})
    assert out.count(b'"Heat"') == 2 and orjson.loads(out)["Heat"]["director"] == "Michael Mann"


def test_on_duplicate_keys_fail_names_the_first_keys_in_one_line():
    snapshot, _ = parse(HEAT_TWICE)
    db.check_duplicates(snapshot, db.KEEP_LAST)
    with pytest.raises(DatabaseError) as excinfo:
        db.check_duplicates(snapshot, db.FAIL)
    message = str(excinfo.value)
    assert message.startswith('input holds 2 keys more than once: "Heat" (2 times), "Alien" (3 times)')
    assert "\n" not in message and "nothing was written" in message


def test_records_out_of_order_are_refused_rather_than_written_in_another_records_place():
    snapshot, items = parse(json.dumps(DATABASE, indent=2).encode())
    with pytest.raises(ValueError):
        b"".join(db.serialize_chunks(snapshot, list(reversed(items)), changed={"Zodiac"}))


def test_additions_follow_the_last_record_in_the_files_layout():
    data = json.dumps({"a": {"title": "a"}}, indent="\t").encode()
    snapshot, items = parse(data)
    out = db.serialize(snapshot, items + [("b", {"title": "b", "n": 2 ** 80})], changed=set())
    assert out == data[:-2] + b',\n\t"b": {\n\t\t"title": "b",\n\t\t"n": 1208925819614629174706176\n\t}\n}'
    assert same(dict(parse(out)[1])["b"]["n"], 2 ** 80)
