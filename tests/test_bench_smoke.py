"""The benchmark harness end to end at a tiny size: every peer runs, the table is written, the outputs agree.

No threshold is asserted here (timings at 20 movies mean nothing); bench/run.sh produces the real figures.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PEERS = ("pipeline", "n_plus_one", "load_once", "thread_pool", "beam_enrichment")


@pytest.mark.e2e
@pytest.mark.slow
def test_smoke_run_writes_every_peer_row_with_equal_outputs(tmp_path):
    pytest.importorskip("google.api_core", reason="Beam's Enrichment peer needs the bench extra: "
                        "pip install -e '.[bench]'")
    results = tmp_path / "RESULTS.md"
    done = subprocess.run([sys.executable, "-m", "bench.run", "--smoke", "--out", str(tmp_path / "out"),
                           "--results", str(results)], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    text = results.read_text()
    assert "## Machine and versions" in text and "apache-beam" in text and "nproc" in text
    assert "## S1: latency-bound" in text
    rows = {line.split("|")[1].strip().strip("`"): line for line in text.splitlines()
            if line.startswith("| `")}
    for peer in PEERS:
        assert peer in rows, f"no row for {peer} in:\n{text}"

    raw = json.loads((tmp_path / "out" / "results.smoke.json").read_text())
    runs = {row["name"]: row for row in raw["S1"]["rows"]}
    assert set(PEERS) <= set(runs)
    for name in PEERS:
        row = runs[name]
        assert row["returncode"] == 0, row
        assert row["done"] == row["movies"] == 20
        assert row["output_check"] in ("reference (20 records enriched, 20 of them ok)", "= pipeline"), \
            (name, row["output_check"])
        assert row["by_status"] == {"200": row["requests"]}
        # Two requests per movie and one /configuration, for every peer alike.
        assert row["by_endpoint"]["search/movie"] == row["by_endpoint"]["movie"] == 20
