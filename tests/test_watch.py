"""`--watch`: new movie files dropped in a folder are merged and enriched, one incremental run each."""

import gc
import io
import os
import signal
import subprocess
import sys
import time
import warnings

import orjson
import pytest
from conftest import API_KEY

from movie_enrichment.io.tmdb import TmdbSettings
from movie_enrichment.pipelines import watch
from movie_enrichment.pipelines.config import RunConfig
from movie_enrichment.transforms.selection import Selector


def wait_until(predicate, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.e2e  # stopped by SIGTERM
def test_watch_merges_new_files_enriches_them_and_stops_cleanly(tmdb_server, tmp_path):
    db = tmp_path / "movies.json"
    db.write_bytes(orjson.dumps({"Psycho": {"title": "Psycho", "year": 1960, "director": "Alfred Hitchcock"}}))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "TMDB_API_KEY"}
    env.update(TMDB_API_KEY=API_KEY, XDG_CACHE_HOME=str(tmp_path / "xdg"))
    process = subprocess.Popen(
        [sys.executable, "-m", "movie_enrichment", "--input", str(db), "--watch", str(inbox), "--watch_interval",
         "0.2", "--tmdb_base_url", tmdb_server.url, "--no_http_cache", "--progress", "off"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        (inbox / ".partial.json").write_text("{")  # still being written: ignored
        (inbox / "new.jsonl").write_bytes(b'{"title": "The Matrix", "year": 1999}\n'
                                          b'{"title": "Psycho", "year": 1998}\n')
        (inbox / "broken.json").write_text("{oops")
        assert wait_until(lambda: (inbox / "processed" / "new.jsonl").exists())
        result = orjson.loads(db.read_bytes())
        assert list(result) == ["Psycho", "The Matrix"], "new titles added, existing keys never overwritten"
        assert result["The Matrix"]["enrichment"]["metadata"]["status"] == "ok"
        assert result["Psycho"]["enrichment"]["metadata"]["status"] == "ok"
        assert (inbox / "rejected" / "broken.json").exists()
        assert (inbox / ".partial.json").exists()
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "watch stopped" in out


def test_watch_closes_the_input_it_copies_into_a_new_database(tmp_path):
    """`--output` missing: the loop starts it from the input, and leaves no file open behind it."""
    source = tmp_path / "movies.json"
    source.write_bytes(orjson.dumps({"Psycho": {"title": "Psycho"}}))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    config = RunConfig(input=str(source), output=str(tmp_path / "out.json"), backup_dir=str(tmp_path / "backups"),
                       failures=str(tmp_path / "f.jsonl"), checkpoint_dir=None, settings=TmdbSettings(api_key=""),
                       selector=Selector())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        watch.watch(str(inbox), 0.01, lambda c: None, config, io.StringIO(), max_cycles=0)
        gc.collect()  # an unclosed file warns when it is collected
    assert (tmp_path / "out.json").read_bytes() == source.read_bytes()
    unclosed = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert unclosed == [], unclosed
