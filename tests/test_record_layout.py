"""Changed and added records are written in the file's own layout: compact, one record per line (indented or
not, spaced or tight separators), or fully indented (movie_enrichment.io.database's writer)."""

from __future__ import annotations

import json
import pathlib

import orjson
import pytest
from conftest import DATA

from movie_enrichment.io import database as db

FILMS = [
    {"title": "Heat", "year": 1995, "cast": ["Al Pacino", "Robert De Niro"], "rating": 8.3},
    {"title": "Alien", "year": 1979, "extra": {"studio": "20th Century Fox", "tags": []}},
    {"title": "Amélie", "year": 2001, "note": "a \"quoted\": word, and more"},
    {"title": "Zodiac", "year": 2007},
]
PATCHES = {"tmdb": {"id": 949, "genres": ["Crime", "Drama"]}, "enrichment": {"status": "ok", "score": 0.97}}


def one_per_line(value, indent: str = "    ", separators=(", ", ": "), newline: str = "\n") -> bytes:
    """A file with each record compact on its own line, as vega-datasets writes its tables (Python's json.dumps
    separators by default)."""
    def dumps(v):
        return json.dumps(v, ensure_ascii=False, separators=separators)
    if isinstance(value, dict):
        lines = [f"{indent}{dumps(k)}{separators[1]}{dumps(v)}" for k, v in value.items()]
        opening, closing = "{", "}"
    else:
        lines = [indent + dumps(v) for v in value]
        opening, closing = "[", "]"
    return (opening + newline + ("," + newline).join(lines) + newline + closing + newline).encode()


def write(data: bytes, keys: dict, additions=()) -> tuple[db.Snapshot, bytes]:
    """The file patched on `keys` (key -> patch) and written as the sink writes it."""
    snapshot, items = db.parse_snapshot("/data/movies.json", data)
    snapshot.additions = tuple(additions)
    out = db.serialize(snapshot, db.apply_patches(items + list(additions), keys), changed=set(keys))
    return snapshot, out


def keyed() -> dict:
    return {film["title"]: film for film in FILMS}


def expected_records(value, keys: dict) -> list:
    records = list(value.items()) if isinstance(value, dict) else [(db.position_key(i), r) for i, r in
                                                                    enumerate(value)]
    return [(k, {**r, **keys[k]} if k in keys else r) for k, r in records]


@pytest.mark.parametrize("shape", ["array", "object"])
@pytest.mark.parametrize("indent", ["    ", "  ", "\t", ""])
@pytest.mark.parametrize("separators", [(", ", ": "), (",", ":")])
def test_a_one_record_per_line_file_stays_one_record_per_line(shape, indent, separators):
    value = FILMS if shape == "array" else keyed()
    data = one_per_line(value, indent, separators)
    keys = {"#1": PATCHES, "#3": PATCHES} if shape == "array" else {"Alien": PATCHES, "Zodiac": PATCHES}
    _, out = write(data, keys)
    assert out.count(b"\n") == data.count(b"\n") == len(FILMS) + 2
    assert out == one_per_line(dict(expected_records(value, keys)) if shape == "object"
                               else [r for _, r in expected_records(value, keys)], indent, separators)


def test_additions_to_a_one_record_per_line_file_are_one_line_each():
    data = one_per_line(FILMS)
    added = [("#4", {"title": "Psycho", "year": 1960}), ("#5", {"title": "Vertigo", "year": 1958})]
    _, out = write(data, {"#0": PATCHES, "#5": PATCHES}, added)
    records = [r for _, r in expected_records(FILMS, {"#0": PATCHES})] + [added[0][1], {**added[1][1], **PATCHES}]
    assert out == one_per_line(records)


def test_a_keyed_one_record_per_line_file_with_crlf_line_ends_keeps_them():
    data = one_per_line(keyed(), "  ", newline="\r\n")
    _, out = write(data, {"Heat": PATCHES}, [("Psycho", {"title": "Psycho"})])
    assert out == one_per_line({**dict(expected_records(keyed(), {"Heat": PATCHES})), "Psycho": {"title": "Psycho"}},
                               "  ", newline="\r\n")


def test_a_one_record_per_line_file_with_duplicate_keys_is_written_one_record_per_line():
    data = b'{\n  "Heat": {"title": "Heat", "v": 1},\n  "Heat": {"title": "Heat", "v": 2},\n  "Alien": {"title": "Alien"}\n}\n'
    snapshot, items = db.parse_snapshot("/data/movies.json", data)
    assert snapshot.duplicates
    out = db.serialize(snapshot, db.apply_patches(items, {"Alien": {"n": 1}}), changed={"Alien"})
    assert out == b'{\n  "Heat": {"title": "Heat", "v": 2},\n  "Alien": {"title": "Alien", "n": 1}\n}\n'


@pytest.mark.parametrize("shape", ["array", "object"])
def test_a_compact_file_stays_on_one_line(shape):
    value = FILMS if shape == "array" else keyed()
    data = orjson.dumps(value) + b"\n"
    keys = {"#2": PATCHES} if shape == "array" else {"Amélie": PATCHES}
    _, out = write(data, keys, [("#4" if shape == "array" else "Psycho", {"title": "Psycho"})])
    assert out.count(b"\n") == 1
    assert b'{"title":"Psycho"}' in out and orjson.dumps(PATCHES["tmdb"]) in out


@pytest.mark.parametrize("shape", ["array", "object"])
@pytest.mark.parametrize("indent", [2, 4])
def test_a_fully_indented_file_stays_fully_indented(shape, indent):
    value = FILMS if shape == "array" else keyed()
    data = json.dumps(value, indent=indent, ensure_ascii=False).encode() + b"\n"
    keys = {"#1": PATCHES} if shape == "array" else {"Alien": PATCHES}
    _, out = write(data, keys)
    records = expected_records(value, keys)
    assert out == json.dumps(dict(records) if shape == "object" else [r for _, r in records], indent=indent,
                             ensure_ascii=False).encode() + b"\n"


@pytest.mark.slow
def test_a_run_on_a_one_record_per_line_copy_of_the_sample_keeps_one_line_per_record(tmdb_server, cli, tmp_path):
    sample = orjson.loads((DATA / "sample_movies.json").read_bytes())
    path = pathlib.Path(tmp_path / "movies.json")
    path.write_bytes(one_per_line(sample))
    done = cli(["--input", path, "--tmdb_base_url", tmdb_server.url, "--no_http_cache", "--progress", "off",
                "--max_requests_per_second", "0"])
    assert done.returncode == 0, done.stderr
    written = path.read_bytes()
    assert written.count(b"\n") == len(sample) + 2
    result = orjson.loads(written)
    assert list(result) == list(sample)
    assert sum("enrichment" in record for record in result.values()) > len(sample) // 2
