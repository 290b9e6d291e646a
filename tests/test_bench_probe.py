"""The benchmark's probes time what the pipeline really calls: a probe that never fires fails the run.

bench/probe.py wraps the project's functions by name; when the code moves on (the sink once stopped calling
`database.serialize` for `serialize_chunks`), a probe left on the old name would silently drop its phase
from the profiles. These tests hold every probe to firing during a real run on the sample database.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import API_KEY

from bench import probe

ROOT = Path(__file__).resolve().parents[1]

# The real probes, plus one on a function the sink no longer calls: the run must name it and exit 1.
_DRIVER = """
import sys
from bench import probe
from movie_enrichment.io import database
real = probe.targets
probe.targets = lambda: real() + [(database, "serialize", "old: database.serialize")]
sys.exit(probe.main(sys.argv[1:]))
"""


@pytest.mark.e2e
def test_every_probe_fires_on_a_real_run_and_one_that_does_not_fails_it(tmp_path, tmdb_server, sample_db):
    timeline = tmp_path / "timeline.json"
    env = {k: v for k, v in os.environ.items() if k != "TMDB_API_KEY"}
    env.update(TMDB_API_KEY=API_KEY, XDG_CACHE_HOME=str(tmp_path / "xdg-cache"))
    done = subprocess.run([sys.executable, "-c", _DRIVER, str(timeline), "--", "--input", str(sample_db),
                           "--tmdb_base_url", tmdb_server.url, "--no_http_cache", "--progress", "off"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    data = json.loads(timeline.read_text())

    assert done.returncode == 1, done.stderr[-3000:]
    assert "these probes never fired" in done.stderr and "old: database.serialize" in done.stderr
    assert data["never_fired"] == ["old: database.serialize"], data["never_fired"]
    names = {name for _, _, name, *_ in probe.targets()}
    fired = {name.split(" #")[0] for name in data["probes"]}
    assert names <= fired, f"never fired: {sorted(names - fired)}"
    assert data["probes"]["sink: serialize"]["calls"] >= 1


def test_a_probe_whose_function_is_gone_stops_the_run_before_it_starts(monkeypatch):
    class Gone:
        pass

    monkeypatch.setattr(probe, "targets", lambda: [(Gone, "serialize", "sink: serialize")])
    with pytest.raises(probe.ProbeError, match="Gone.serialize"):
        probe.install()


def test_never_fired_names_the_probes_no_call_went_through(monkeypatch):
    class Steps:
        @staticmethod
        def called():
            return 1

        @staticmethod
        def skipped():
            return 2

    monkeypatch.setattr(probe, "INSTALLED", [])
    monkeypatch.setattr(probe, "PROBES", {})
    monkeypatch.setattr(probe, "targets", lambda: [(Steps, "called", "a"), (Steps, "skipped", "b")])
    probe.install()
    assert probe.never_fired() == ["a", "b"]
    assert Steps.called() == 1
    assert probe.never_fired() == ["b"]
