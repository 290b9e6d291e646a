"""`--download_images DIR` (issue 26) against the bundled TMDB server: posters and backdrops stored as TMDB names
them, with their sizes and blurhashes; a corrupt or cut image never becomes a file; a rerun downloads nothing;
the size cap; `--prune_images`."""

from __future__ import annotations

import io
import os

import blurhash
import orjson
import pytest
from conftest import run_cli
from PIL import Image

from movie_enrichment.io import files, stop
from movie_enrichment.io.images import CorruptImage, FetchError, ImageFetcher, ImageStore, decode, relative_path
from movie_enrichment.testing import images as served
from movie_enrichment.testing.tmdb_server import TmdbServer
from movie_enrichment.transforms.extract import image_root

KEY = "test-api-key"
COUNT = 6


@pytest.fixture(scope="module")
def server():
    with TmdbServer(api_key=KEY) as running:
        yield running


@pytest.fixture(autouse=True)
def no_faults(server):
    server.image_faults.clear()
    yield
    server.image_faults.clear()


def _database(server: TmdbServer, path, count: int = COUNT):
    path.write_bytes(orjson.dumps({f"film {m['id']}": {"title": m["title"], "tmdb_id": m["id"]}
                                   for m in server.catalog.movies[:count]}))
    return path


def _run(server, tmp_path, database, folder, *options, status=0):
    done = run_cli(["--input", database, "--tmdb_base_url", server.url, "--http_cache", tmp_path / "cache.sqlite",
                    "--progress", "off", "--http_retries", "1", "--download_images", folder, *options], tmp_path)
    assert done.returncode == status, done.stderr
    return orjson.loads(database.read_bytes()), done


def _stored(folder) -> dict[str, os.stat_result]:
    return {str(p.relative_to(folder)): p.stat() for p in folder.rglob("*") if p.is_file()}


def test_posters_and_backdrops_are_stored_with_their_sizes_and_blurhashes(server, tmp_path):
    folder = tmp_path / "img"
    records, done = _run(server, tmp_path, _database(server, tmp_path / "movies.json"), folder)
    stored = _stored(folder)
    assert len(stored) == 2 * COUNT and not [name for name in stored if ".tmp-" in name]
    for record in records.values():
        block = record["images"]
        assert record["enrichment"]["images"]["options"] == {"download_images": "poster,backdrop"}
        for kind in ("poster", "backdrop"):
            relative = block[f"{kind}_file"]
            assert relative == relative_path(block[kind]) and relative.startswith(("w500/", "w1280/"))
            data = (folder / relative).read_bytes()
            assert data == served.jpeg(*relative.split("/"))  # the served bytes, whole
            image = Image.open(io.BytesIO(data))
            assert image.format == "JPEG" and (block[f"{kind}_width"], block[f"{kind}_height"]) == image.size
            assert blurhash.is_valid_blurhash(block[f"{kind}_blurhash"])
        assert block["poster_width"] == 500 and block["poster_height"] == 750
        assert "logo_file" not in block and block["logo"]  # the logo only with --download_logos
    # Two films' posters differ, so do their hashes.
    assert len({r["images"]["poster_blurhash"] for r in records.values()}) > 1


def test_a_plain_run_is_unchanged_without_the_option(server, tmp_path):
    database = _database(server, tmp_path / "movies.json")
    done = run_cli(["--input", database, "--tmdb_base_url", server.url, "--http_cache", tmp_path / "c.sqlite",
                    "--progress", "off"], tmp_path)
    assert done.returncode == 0, done.stderr
    record = next(iter(orjson.loads(database.read_bytes()).values()))
    assert not [name for name in record["images"] if name.endswith(("_file", "_blurhash", "_width"))]
    assert "options" not in record["enrichment"]["images"]


def test_a_corrupt_image_fails_the_movies_images_with_the_reason_and_never_becomes_a_file(server, tmp_path):
    database = _database(server, tmp_path / "movies.json")
    victim = server.catalog.movies[0]
    server.image_faults[victim["poster_path"].lstrip("/")] = "corrupt"
    folder = tmp_path / "img"
    records, _ = _run(server, tmp_path, database, folder, "--max_failures", "100%")
    record = records[f"film {victim['id']}"]
    outcome = record["enrichment"]["images"]
    assert outcome["status"] == "failed" and "poster" in outcome["error"] and "not a whole image" in outcome["error"]
    assert record["images"]["poster_file"] is None and record["images"]["backdrop_file"]  # the backdrop is fine
    assert not [name for name in _stored(folder) if victim["poster_path"].lstrip("/") in name]
    failures = [orjson.loads(line) for line in (tmp_path / "movies.json.failures.jsonl").read_bytes().splitlines()]
    assert [(f["key"], f["enricher"]) for f in failures] == [(f"film {victim['id']}", "images")]
    assert "not a whole image" in failures[0]["error"]
    others = [r for key, r in records.items() if key != f"film {victim['id']}"]
    assert all(r["enrichment"]["images"]["status"] == "ok" and r["images"]["poster_file"] for r in others)


def test_an_interrupted_download_leaves_no_partial_file_and_the_rerun_completes(server, tmp_path):
    database = _database(server, tmp_path / "movies.json")
    victim = server.catalog.movies[1]
    name = victim["poster_path"].lstrip("/")
    server.image_faults[name] = "cut"  # the connection closes after half the bytes
    folder = tmp_path / "img"
    records, _ = _run(server, tmp_path, database, folder, "--max_failures", "100%")
    assert "cut off" in records[f"film {victim['id']}"]["enrichment"]["images"]["error"]
    assert not [path for path in _stored(folder) if name in path]  # neither the file nor a temporary one
    server.image_faults.clear()
    before = _stored(folder)
    records, _ = _run(server, tmp_path, database, folder)  # --reprocess missing takes the failed movie again
    record = records[f"film {victim['id']}"]
    assert record["enrichment"]["images"]["status"] == "ok"
    assert (folder / record["images"]["poster_file"]).read_bytes() == served.jpeg("w500", name)
    after = _stored(folder)
    assert {path: (s.st_ino, s.st_mtime_ns) for path, s in after.items() if path in before} == {
        path: (s.st_ino, s.st_mtime_ns) for path, s in before.items()}  # the others not written again


def test_a_rerun_downloads_nothing_that_is_already_there(server, tmp_path):
    database = _database(server, tmp_path / "movies.json")
    folder = tmp_path / "img"
    first, _ = _run(server, tmp_path, database, folder)
    before = {path: (s.st_ino, s.st_mtime_ns) for path, s in _stored(folder).items()}
    # Every image refused from now on: a download would fail the run.
    for record in first.values():
        for kind in ("poster", "backdrop"):
            server.image_faults[record["images"][f"{kind}_file"]] = "missing"
    again, done = _run(server, tmp_path, database, folder, "--reprocess", "all")
    assert {path: (s.st_ino, s.st_mtime_ns) for path, s in _stored(folder).items()} == before
    strip = ("updated_at",)
    assert [{k: v for k, v in r["images"].items() if k not in strip} for r in again.values()] == [
        {k: v for k, v in r["images"].items() if k not in strip} for r in first.values()]
    report = orjson.loads((tmp_path / "movies.json.report.json").read_bytes())
    assert report["images_downloaded"] == 0 and report["images_skipped"] == 2 * COUNT


def test_a_database_enriched_without_downloads_gets_its_images_stored(server, tmp_path):
    database = _database(server, tmp_path / "movies.json")
    done = run_cli(["--input", database, "--tmdb_base_url", server.url, "--http_cache", tmp_path / "c.sqlite",
                    "--progress", "off"], tmp_path)
    assert done.returncode == 0, done.stderr
    records, _ = _run(server, tmp_path, database, tmp_path / "img")
    assert all(r["images"]["poster_file"] for r in records.values())


def test_past_the_size_cap_no_more_downloads_one_line_and_links_only(server, tmp_path):
    database = _database(server, tmp_path / "movies.json")
    folder = tmp_path / "img"
    # 30 kB: a few of the ~8-18 kB images, not all twelve.
    records, done = _run(server, tmp_path, database, folder, "--images_max_gb", "0.00003",
                         "--image_concurrency", "1")
    stored = sum(s.st_size for s in _stored(folder).values())
    assert 0 < len(_stored(folder)) < 2 * COUNT and stored < 30_000 + 20_000  # at most one image past the cap
    assert done.stderr.count("--images_max_gb") == 1
    assert all(r["enrichment"]["images"]["status"] == "ok" and r["images"]["poster"] for r in records.values())
    assert any(r["images"]["poster_file"] is None for r in records.values())


def test_prune_removes_only_the_files_no_record_refers_to(server, tmp_path):
    database = _database(server, tmp_path / "movies.json")
    folder = tmp_path / "img"
    records, _ = _run(server, tmp_path, database, folder)
    stale = folder / "w500" / "oldPosterPath.jpg"
    stale.write_bytes(served.jpeg("w500", "oldPosterPath.jpg"))
    left = folder / "w500" / ".abc.jpg.tmp-0123"
    left.write_bytes(b"half")
    mine = folder / "notes.txt"
    mine.write_text("the user's own")
    kept = _stored(folder)
    _run(server, tmp_path, database, folder, "--prune_images")
    assert not stale.exists() and not left.exists() and mine.exists()
    assert set(_stored(folder)) == set(kept) - {"w500/oldPosterPath.jpg", "w500/.abc.jpg.tmp-0123"}
    assert {r["images"]["poster_file"] for r in records.values()} <= set(_stored(folder))


def test_prune_is_refused_without_downloads(server, tmp_path):
    database = _database(server, tmp_path / "movies.json")
    done = run_cli(["--input", database, "--tmdb_base_url", server.url, "--prune_images"], tmp_path)
    assert done.returncode == 2 and "--prune_images would be ignored" in done.stderr


# --- the parts -----------------------------------------------------------------------------------------------------

def test_decode_refuses_truncated_and_foreign_bytes():
    whole = served.jpeg("w185", "x.jpg")
    assert (decode(whole).width, decode(whole).height) == (185, 278)
    for bad in (whole[: len(whole) // 2], b"", b"<html>not found</html>", served.poster("w92", "y.png")[:60]):
        with pytest.raises(CorruptImage):
            decode(bad)
    png = decode(served.poster("w92", "y.png"))
    assert (png.width, png.height) == (92, 138) and blurhash.is_valid_blurhash(png.blurhash)


def test_a_write_cut_short_leaves_neither_the_file_nor_a_temporary_one(tmp_path, monkeypatch):
    store = ImageStore(str(tmp_path / "img"))
    data = served.jpeg("w92", "a.jpg")

    def interrupted(fd):  # Ctrl-C while the bytes are flushed, before the rename
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        store.write("w92/a.jpg", data)
    assert [p for p in (tmp_path / "img").rglob("*") if p.is_file()] == []
    monkeypatch.undo()
    store.write("w92/a.jpg", data)
    assert store.read("w92/a.jpg") == data and store.listing() == {"w92/a.jpg": len(data)}


def test_a_process_asked_to_stop_downloads_nothing_more(server):
    root = served.image_root(server.url)
    fetcher = ImageFetcher(root)
    asked = []
    fetcher._http.request = lambda *args, **kwargs: asked.append(args)
    stop.request()
    try:
        with pytest.raises(stop.StopRequested):
            fetcher.get(root + "w92/b.jpg", decode)
    finally:
        stop.clear()
    assert asked == []


def test_the_fetcher_names_a_cut_image_and_asks_a_corrupt_one_again_after_its_backoff(server):
    root = served.image_root(server.url)
    waits = []
    server.image_faults["w92/b.jpg"] = "cut"
    with pytest.raises(FetchError, match="cut off"):
        ImageFetcher(root, retries=0, sleep=waits.append).get(root + "w92/b.jpg", decode)
    server.image_faults["w92/b.jpg"] = "corrupt"
    fetcher = ImageFetcher(root, retries=2, sleep=waits.append)
    original = fetcher._http.request

    def request(*args, **kwargs):  # the first answer is half an image, the next whole
        try:
            return original(*args, **kwargs)
        finally:
            server.image_faults.clear()

    fetcher._http.request = request
    data, found = fetcher.get(root + "w92/b.jpg", decode)
    assert data == served.jpeg("w92", "b.jpg") and found.width == 92 and waits == [0.5]


def test_the_image_host_is_configurations_https_root_or_the_local_apis_own():
    local = {"images": {"secure_base_url": "http://127.0.0.1:8000/t/p/"}}
    assert image_root(local, "http://127.0.0.1:8000/3") == "http://127.0.0.1:8000/t/p/"
    assert image_root(local, "http://127.0.0.1:9999/3") == "https://image.tmdb.org/t/p/"  # another host: not it
    assert image_root({"images": {"secure_base_url": "https://cdn.example/t/p"}},
                      "https://api.themoviedb.org/3") == "https://cdn.example/t/p/"
    assert relative_path("https://image.tmdb.org/t/p/w500/abc.jpg") == "w500/abc.jpg"
    assert relative_path("https://image.tmdb.org/t/p/w500/../x.jpg") is None
