"""The store interface on real databases: a SQLite file and the suite's own PostgreSQL server."""

import sqlite3

import pytest

from movie_enrichment.io.stores import Layout, Selection, StoreError, apply_patch, decode, encode, open_store, sqlite_path

RECORDS = [
    ("Zodiac", {"title": "Zodiac", "year": 2007, "z_last": 1, "a_first": 2.5, "neg": -0.0, "f": 1.5e300,
                "big": 123456789012345678901234567890, "é": "ü\u0001"}),
    ("Alien", {"title": "Alien", "enrichment": {"metadata": {"status": "ok", "updated_at": "2026-01-01T00:00:00Z"},
                                                 "images": {"status": "failed", "updated_at": "2026-01-01T00:00:00Z"}},
               "tmdb": {"id": 348}}),
    ("Brazil", {"title": "Brazil", "enrichment": {"metadata": {"status": "not_found"}, "images": {"status": "ok"}}}),
    ("#odd", ["not", "an", "object"]),
    ("Deep", {"title": "Deep", "nested": [[[[[[[[[[{"x": 1}]]]]]]]]]]}),
]


def filled(url):
    store = open_store(url)
    store.replace_all(RECORDS, Layout("object", 2, False))
    return store


def test_codec_keeps_big_integers_and_order_exact():
    record = dict(RECORDS[0][1])
    text = encode(record)
    back = decode(text)
    assert back == record and list(back) == list(record)
    assert type(back["big"]) is int and back["big"] == 123456789012345678901234567890


def test_records_round_trip_exactly_in_order(store_url):
    with filled(store_url) as store:
        items = list(store.read())
        assert [k for k, _ in items] == [k for k, _ in RECORDS]
        for (_, got), (_, want) in zip(items, RECORDS):
            assert got == want and encode(got) == encode(want), "values and key order kept"
        assert store.layout() == Layout("object", 2, False)
        assert store.count() == len(RECORDS)


def test_selection_runs_in_the_database(store_url):
    with filled(store_url) as store:
        def keys(**kw):
            return [k for k, _ in store.read(Selection(**kw))]
        # missing: never enriched or failed (the non-object record is offered; the selector drops it)
        assert keys(mode="missing") == ["Zodiac", "Alien", "#odd", "Deep"]
        assert keys(mode="missing", enrichers=("metadata",)) == ["Zodiac", "#odd", "Deep"]
        assert keys(mode="failed") == ["Alien"]
        assert keys(mode="not_found") == ["Brazil"]
        assert keys(mode="all") == [k for k, _ in RECORDS]
        assert "Alien" in keys(mode="stale", stale_before="2026-06-01T00:00:00Z")
        assert "Alien" not in keys(mode="stale", stale_before="2025-06-01T00:00:00Z", enrichers=("metadata",))
        # its images failed: stale takes failures, however recent
        assert "Alien" in keys(mode="stale", stale_before="2025-06-01T00:00:00Z", enrichers=("images",))
        counts = store.status_counts()
        assert counts["metadata"] == {"none": 3, "ok": 1, "not_found": 1}
        assert counts["images"]["failed"] == 1


def test_key_ranges_cover_the_selection_once(store_url):
    with filled(store_url) as store:
        ranges = store.key_ranges(None, 2)
        assert len(ranges) == 3
        read = [k for r in ranges for k, _ in store.read(None, r)]
        assert read == [k for k, _ in RECORDS]


def test_patches_touch_only_our_fields_and_keep_history(store_url):
    with filled(store_url) as store:
        changed = store.write_patches("run-1", [
            ("Zodiac", {"tmdb": {"id": 1949}, "enrichment.metadata": {"status": "ok"}}),
            ("Zodiac", {"images": {"poster": "p"}, "enrichment.images": {"status": "ok"}}),
            ("Alien", {"enrichment.images": {"status": "failed", "updated_at": "2026-01-01T00:00:00Z"}}),
            ("#odd", {"tmdb": None}),
        ])
        assert changed == 1, "Alien's patch changes nothing and the array record cannot be patched"
        records = dict(store.read())
        zodiac = records["Zodiac"]
        assert list(zodiac)[-3:] == ["tmdb", "enrichment", "images"], "fields in the order their patches came"
        assert {k: v for k, v in zodiac.items() if k not in ("tmdb", "images", "enrichment")} == RECORDS[0][1]
        assert zodiac["enrichment"] == {"metadata": {"status": "ok"}, "images": {"status": "ok"}}
        assert [r.run_id for r in store.runs()] == ["run-1"] and store.runs()[0].rows == 1
        with pytest.raises(StoreError, match="only tmdb, images, enrichment"):
            store.write_patches("run-2", [("Zodiac", {"title": "Hacked"})])
        assert dict(store.read())["Zodiac"]["title"] == "Zodiac"

        assert store.restore("run-1", "restore-1") == 1
        assert dict(store.read())["Zodiac"] == RECORDS[0][1]
        assert [r.run_id for r in store.runs()] == ["run-1", "restore-1"]
        assert store.prune_history(1) == 1
        assert [r.run_id for r in store.runs()] == ["restore-1"]
        with pytest.raises(StoreError, match="no run 'nope'"):
            store.restore("nope", "x")


def test_a_row_inserted_with_only_key_and_record_is_a_valid_movie(store_url):
    with filled(store_url) as store:
        pass
    if store_url.startswith("sqlite"):
        conn = sqlite3.connect(sqlite_path(store_url))
        conn.execute("""INSERT INTO movies (key, record) VALUES ('New', '{"title": "New", "year": 1999}')""")
        conn.commit()
        conn.close()
    else:
        import psycopg
        with psycopg.connect(store_url, autocommit=True) as conn:
            conn.execute("""INSERT INTO movies (key, record) VALUES ('New', '{"title": "New", "year": 1999}')""")
    with open_store(store_url) as store:
        assert [k for k, _ in store.read(Selection())][-1] == "New", "picked by the next run, last in order"
        store.write_patches("r", [("New", {"enrichment.metadata": {"status": "ok"}})])
        assert store.status_counts()["metadata"]["ok"] == 2, "its status column follows its record"


def test_a_table_of_another_shape_is_a_clear_error(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE movies (id INTEGER, name TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match=r"table movies in sqlite:///.* is not a movie table.*--table"):
        open_store(f"sqlite:///{path}")
    with open_store(f"sqlite:///{path}", table="films") as store:
        assert store.count() == 0


def test_a_users_key_record_table_is_adopted(tmp_path):
    path = tmp_path / "mine.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE movies (key TEXT PRIMARY KEY, record TEXT)")
    conn.execute("""INSERT INTO movies VALUES ('B', '{"title": "B"}'), ('A', '{"title": "A"}')""")
    conn.commit()
    conn.close()
    with open_store(f"sqlite:///{path}") as store:
        assert [k for k, _ in store.read(Selection())] == ["B", "A"]


def test_postgres_refuses_a_nul_character_in_one_line(postgres_server):
    url = postgres_server.create_database("nul_test")
    with open_store(url) as store, pytest.raises(StoreError, match="u0000"):
        store.replace_all([("A", {"title": "x\u0000y"})], Layout())


def test_bad_urls_and_names_are_one_line_errors(tmp_path):
    with pytest.raises(StoreError, match="sqlite:///relative"):
        open_store("sqlite://nohost.db")
    with pytest.raises(StoreError, match="plain SQL name"):
        open_store(f"sqlite:///{tmp_path / 'x.db'}", table="movies; DROP TABLE x")
    with pytest.raises(StoreError, match="folder of the SQLite database does not exist"):
        open_store(f"sqlite:///{tmp_path / 'missing' / 'x.db'}")
    with pytest.raises(StoreError, match="cannot connect to postgresql://someone:\\*\\*\\*@127.0.0.1:1/db"):
        open_store("postgresql://someone:secret@127.0.0.1:1/db")


def test_apply_patch_sets_fields_as_the_json_sink_does():
    record = {"title": "T", "enrichment": {"metadata": {"s": 0}, "other": 1}}
    patched = apply_patch(record, {"images": 2, "tmdb": 3, "enrichment.images": {"s": 1},
                                   "enrichment.metadata": {"s": 2}})
    assert patched == {"title": "T", "enrichment": {"metadata": {"s": 2}, "other": 1, "images": {"s": 1}},
                       "images": 2, "tmdb": 3}
    assert list(patched) == ["title", "enrichment", "images", "tmdb"]
    assert apply_patch(["a"], {"tmdb": 1}) == ["a"]
