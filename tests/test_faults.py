"""The pipeline against a TMDB server that throttles, stalls, cuts bodies and resets connections."""

import os
import subprocess
import sys

import orjson
import pytest
from conftest import API_KEY

from movie_enrichment.testing import synthetic
from movie_enrichment.testing.tmdb_server import Faults, TmdbServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

MOVIES = 2000
FAULT_MIX = dict(error_5xx=0.05, truncated=0.01, stall=0.005, stall_seconds=2.0, reset=0.005, burst_429=0.002,
                 burst_length=3)


def run(db, url, tmp_path, *extra):
    env = {k: v for k, v in os.environ.items() if k != "TMDB_API_KEY"}
    env.update(TMDB_API_KEY=API_KEY, XDG_CACHE_HOME=str(tmp_path / "xdg"))
    return subprocess.run(
        [sys.executable, "-m", "movie_enrichment", "--input", str(db), "--tmdb_base_url", url, "--no_http_cache",
         "--progress", "off", "--http_timeout", "0.5", "--max_requests_per_second", "0", "--batch_size", "100",
         *extra], env=env, capture_output=True, text=True, timeout=900)


def test_fault_mix_loses_nothing_and_a_reprocess_completes_it(tmp_path):
    db = tmp_path / "movies.json"
    original = orjson.loads(synthetic.database(MOVIES))
    db.write_bytes(orjson.dumps(original))
    with TmdbServer(catalog=synthetic.catalog(MOVIES), api_key=API_KEY, faults=Faults(**FAULT_MIX),
                    seed=7) as server:
        done = run(db, server.url, tmp_path)
        faulty = server.counts()
        assert done.returncode == 0, done.stderr

        result = orjson.loads(db.read_bytes())
        assert list(result) == list(original), "every key kept, in order"
        for key, record in original.items():
            assert {k: v for k, v in result[key].items() if k in record} == record, "original fields unchanged"
        statuses = [r["enrichment"]["metadata"]["status"] for r in result.values()]
        ok = statuses.count("ok")
        assert ok >= 0.99 * MOVIES, (ok, faulty)
        assert set(statuses) <= {"ok", "failed"}
        failed_keys = {k for k, r in result.items() if r["enrichment"]["metadata"]["status"] == "failed"
                       or r["enrichment"]["images"]["status"] == "failed"}
        failures_file = tmp_path / "movies.json.failures.jsonl"
        listed = {orjson.loads(line)["key"] for line in failures_file.read_bytes().splitlines()} \
            if failures_file.exists() else set()
        assert listed == failed_keys

        injected = faulty["faults"]
        assert set(injected) == {"error_5xx", "truncated", "stall", "reset", "burst_429"}, injected
        assert sum(injected.values()) > 0.06 * faulty["total"], faulty  # the faults really happened
        print(f"\nfault mix: {faulty['total']} requests, faults injected {injected}, "
              f"statuses {faulty['by_status']}, ok {ok}/{MOVIES}, failed {len(failed_keys)}")

        server.faults = Faults()
        server.reset_counts()
        again = run(db, server.url, tmp_path, "--reprocess", "failed")
        assert again.returncode == 0, again.stderr
        final = orjson.loads(db.read_bytes())
        assert all(r["enrichment"]["metadata"]["status"] == "ok" for r in final.values())
        assert server.counts()["total"] <= 2 * len(failed_keys) + 4
        assert not failures_file.exists(), "no failure left to list"
