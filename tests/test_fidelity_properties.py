"""Property-based fidelity tests (Hypothesis): generated databases of arbitrary JSON values, in every layout we
read, come back with every value equal in value and type, and every record present, from the reader alone and
through real runs of the command that enrich some of their records.

Budget: the `ci` profile (the default) keeps the whole module around 30-60 s on 2 cores; `HYPOTHESIS_PROFILE=deep`
tries many more examples.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import pathlib
import tempfile

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fidelity import same

from movie_enrichment.io import database as db
from movie_enrichment.io.database import encode
from movie_enrichment.pipelines import cli
from movie_enrichment.testing import synthetic
from movie_enrichment.testing.tmdb_server import TmdbServer

settings.register_profile("ci", deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("deep", parent=settings.get_profile("ci"), max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

KEY = "fidelity-test-key"
OWN = ("tmdb", "images", "enrichment")  # the fields a run sets
CATALOG = 6

# --- Strategies --------------------------------------------------------------------------------------

EDGE_INTEGERS = [0, -1, 2 ** 53 + 1, 2 ** 63 - 1, 2 ** 63, 2 ** 64 - 1, 2 ** 64, -(2 ** 63), -(2 ** 63) - 1,
                 10 ** 19, -(10 ** 19), 123456789012345678901234567890, 10 ** 300]
EDGE_FLOATS = [0.0, -0.0, 1.0, 8.3, 1e-7, 2.5e300, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
               -1.7976931348623157e308, 0.1, 1e16, 123456789.123456789]
# Text: every code point but lone surrogates (which UTF-8 cannot carry), astral ones and controls included.
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
odd_keys = st.sampled_from(["", "#3", "#0", " ", '"', "\\", "\n", "\u2028", "\U0001F3AC", "a:b", "{}", "0"])
keys = st.one_of(text, odd_keys)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.sampled_from(EDGE_INTEGERS),
    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(EDGE_FLOATS), text)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(keys, inner, max_size=4)), max_leaves=16)


def _nest(value, depth: int, as_object: bool):
    for _ in range(depth):
        value = {"d": value} if as_object else [value]
    return value


deep_values = st.builds(_nest, values, st.integers(0, 300), st.booleans())
field_names = keys.filter(lambda k: k not in OWN)
records = st.dictionaries(field_names, st.one_of(values, deep_values), max_size=5)
databases = st.dictionaries(keys, st.one_of(records, records, values), min_size=1, max_size=8).filter(
    lambda d: any(isinstance(r, dict) for r in d.values()))


def write(value, layout: str) -> bytes:
    """The database as a tool writes it: ours (orjson, 2 spaces), Python's json in its usual forms, tabs + CRLF,
    one record per line (indented with Python's separators and escapes, or not indented and tight)."""
    if layout == "ours":
        try:
            return orjson.dumps(value, option=orjson.OPT_INDENT_2) + b"\n"
        except orjson.JSONEncodeError:  # integers beyond 64 bits, nesting beyond 254: what our writer does
            return json.dumps(value, indent=2, ensure_ascii=False).encode() + b"\n"
    if layout == "compact":
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    if layout == "indent_4_ascii":
        return json.dumps(value, indent=4).encode()
    if layout == "tabs_crlf":
        return json.dumps(value, indent="\t", ensure_ascii=False).replace("\n", "\r\n").encode() + b"\r\n"
    if layout == "one_line_spaced":
        return json.dumps(value).encode() + b"\n"
    if layout in ("one_per_line", "one_per_line_tight"):  # vega-datasets' tables: each record on its own line
        separators = (", ", ": ") if layout == "one_per_line" else (",", ":")
        def dumps(v):
            return json.dumps(v, ensure_ascii=layout == "one_per_line", separators=separators)
        if isinstance(value, dict):
            lines = [f"{dumps(k)}: {dumps(v)}" for k, v in value.items()]
        else:
            lines = [dumps(v) for v in value]
        opening, closing = ("{", "}") if isinstance(value, dict) else ("[", "]")
        indent = "    " if layout == "one_per_line" else ""
        return (opening + "\n" + ",\n".join(indent + line for line in lines) + "\n" + closing + "\n").encode()
    raise AssertionError(layout)


LAYOUTS = ("ours", "compact", "indent_4_ascii", "tabs_crlf", "one_line_spaced", "one_per_line", "one_per_line_tight")
SHAPES = ("object", "array", "jsonl")


def as_file(database: dict, shape: str, layout: str) -> tuple[bytes, str, list]:
    """(file bytes, file name, the records in order) of a database in a shape and layout."""
    if shape == "object":
        return write(database, layout), "movies.json", list(database.items())
    records = list(database.values())
    expected = [(db.position_key(i), r) for i, r in enumerate(records)]
    if shape == "array":
        return write(records, layout), "movies.json", expected
    lines = b"".join(json.dumps(r, ensure_ascii=layout == "indent_4_ascii").encode() +
                     (b"\r\n" if layout == "tabs_crlf" else b"\n") for r in records)
    return lines, "movies.jsonl", expected


# --- The reader and writer alone (many examples, fast) -----------------------------------------------


@pytest.mark.slow
@settings(max_examples=150)
@given(database=databases, shape=st.sampled_from(SHAPES), layout=st.sampled_from(LAYOUTS), data=st.data())
def test_read_patch_write_keeps_every_value_and_type(database, shape, layout, data):
    raw, name, expected = as_file(database, shape, layout)
    snapshot, items = db.parse_snapshot(f"/data/{name}", raw)
    assert [k for k, _ in items] == [k for k, _ in expected]
    assert same([r for _, r in items], [r for _, r in expected])
    assert snapshot.duplicates == ()
    one_per_line = layout.startswith("one_per_line") and shape != "jsonl"
    assert (snapshot.style is not None) == (one_per_line and any(isinstance(r, (dict, list)) and r for _, r in items))
    one_line_of_another_tool = snapshot.layout is None
    if one_line_of_another_tool:  # written back in our compact form (see exactjson's `general`)
        assert shape != "jsonl" and b"\n" not in raw.strip()
    else:
        assert db.serialize(snapshot, items, changed=()) == raw  # nothing changed: byte for byte

    movies = [k for k, r in items if isinstance(r, dict)]
    patched = data.draw(st.sets(st.sampled_from(movies)), label="patched")
    patch = {"enrichment": {"metadata": {"status": "ok"}}, "tmdb": {"id": 2 ** 70, "r": -0.0}}
    patches = {k: patch for k in patched}
    out = db.serialize(snapshot, db.apply_patches(items, patches), changed=patches.keys())
    _, written = db.parse_snapshot(f"/data/{name}", out)
    assert [k for k, _ in written] == [k for k, _ in items]  # every record, in its place
    for (key, old), (_, new) in zip(items, written):
        assert same(new, {**old, **patch} if key in patches else old), key
    if not one_line_of_another_tool:  # untouched records, and all between records: their bytes as read
        expected, done = [], 0
        for index, (key, record) in enumerate(db.apply_patches(items, patches)):
            if key in patches:
                expected += [raw[done:snapshot.layout.value_starts[index]], encode.changed_value(snapshot, record)]
                done = snapshot.layout.value_ends[index]
        assert out == b"".join(expected) + raw[done:]
        # The sink parses only the records it patches (each from its own bytes): the same file comes out.
        partial = db.records(snapshot, wanted=patches.keys())
        assert [k for k, _ in partial] == [k for k, _ in items]
        assert same([r for k, r in partial if k in patches], [r for k, r in items if k in patches])
        assert all(r is db.UNPARSED for k, r in partial if k not in patches)
        assert db.serialize(snapshot, db.apply_patches(partial, patches), changed=patches.keys()) == out
    # Written afresh (no splicing), every value still comes back with its type.
    fresh = db.serialize(snapshot, db.apply_patches(items, patches))
    assert same([r for _, r in db.parse_snapshot(f"/data/{name}", fresh)[1]], [r for _, r in written])


@settings(max_examples=50)
@given(pairs=st.lists(st.tuples(st.sampled_from(["Heat", "Alien", "", "#1", "\U0001F3AC"]), records),
                      min_size=1, max_size=8),
       indented=st.booleans())
@pytest.mark.slow
def test_duplicate_keys_are_all_counted_and_the_last_record_kept(pairs, indented):
    sep = "\n  " if indented else " "
    text = "{" + ",".join(f"{sep}{json.dumps(k)}: {json.dumps(v)}" for k, v in pairs) + ("\n}" if indented else "}")
    snapshot, items = db.parse_snapshot("/data/movies.json", text.encode())
    counts: dict = {}
    for key, _ in pairs:
        counts[key] = counts.get(key, 0) + 1
    assert snapshot.duplicates == tuple((k, n) for k, n in counts.items() if n > 1)
    assert [k for k, _ in items] == list(counts)  # each key once, at its first place
    assert same(dict(items), dict(pairs))  # with its last record


# --- Through real runs of the command (few examples: each is a whole run) ------------------------------


@pytest.fixture(scope="module")
def server():
    with TmdbServer(catalog=synthetic.catalog(CATALOG), api_key=KEY) as tmdb:
        yield tmdb


@contextlib.contextmanager
def _in_process_environment(folder: pathlib.Path):
    saved_env = {k: os.environ.get(k) for k in ("TMDB_API_KEY", "XDG_CACHE_HOME")}
    root = logging.getLogger()
    saved = (root.level, list(root.handlers), logging.getLogger("apache_beam").level)
    os.environ["TMDB_API_KEY"] = KEY
    os.environ["XDG_CACHE_HOME"] = str(folder / "xdg-cache")
    try:
        yield
    finally:
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        logging.disable(logging.NOTSET)
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
        logging.getLogger("apache_beam").setLevel(saved[2])


def catalog_movie(i: int) -> tuple[str, dict]:
    return synthetic.title(i), {"title": synthetic.title(i), "year": 1950 + i % 70, "director": synthetic.director(i)}


@settings(max_examples=6)
@given(database=st.dictionaries(keys, records, min_size=1, max_size=6),
       extras=st.lists(records, min_size=1, max_size=3), layout=st.sampled_from(LAYOUTS),
       shape=st.sampled_from(SHAPES), select_some=st.booleans())
@pytest.mark.slow
def test_a_real_run_that_enriches_some_records_keeps_every_value_of_every_record(
        server, database, extras, layout, shape, select_some):
    """Catalog films (looked up, enriched) among arbitrary records (invalid: no usable title, still patched with
    their status); with `--titles`, only some catalog films are selected and every other record is untouched."""
    for i, fields in enumerate(extras):
        key, movie = catalog_movie(i)
        database[key] = {**fields, **movie}
    select_some = select_some and shape == "object"  # --titles names keys; positions (#3) are not chosen here
    raw, name, expected = as_file(database, shape, layout)
    with tempfile.TemporaryDirectory(prefix="fidelity-") as scratch:
        folder = pathlib.Path(scratch)
        path = folder / name
        path.write_bytes(raw)
        args = ["--input", str(path), "--tmdb_base_url", server.url, "--no_http_cache", "--progress", "off",
                "--max_requests_per_second", "0"]
        selected = None
        if select_some:
            selected = {catalog_movie(0)[0]}
            (folder / "titles.txt").write_text("\n".join(selected) + "\n", encoding="utf-8")
            args += ["--titles", str(folder / "titles.txt")]
        with _in_process_environment(folder), contextlib.redirect_stdout(io.StringIO()):
            status = cli.main(args)
        assert status == 0
        out = path.read_bytes()
        _, written = db.parse_snapshot(str(path), out)
        backups = list((folder / "backups").iterdir())
        assert len(backups) == 1 and backups[0].read_bytes() == raw
    assert [k for k, _ in written] == [k for k, _ in expected]  # every record present, in its place
    enriched = 0
    for (key, old), (_, new) in zip(expected, written):
        if not isinstance(old, dict):
            assert same(new, old), key
            continue
        assert same({f: v for f, v in new.items() if f not in OWN or f in old}, old), key
        if selected is not None and key not in selected:
            assert same(new, old), key  # not selected: untouched altogether
        enriched += new.get("enrichment", {}).get("metadata", {}).get("status") == "ok"
    assert enriched >= 1
