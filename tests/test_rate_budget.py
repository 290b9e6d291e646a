"""The rate budget that the processes of one machine share through a file (`io/tmdb/budget.py`)."""

import subprocess
import sys
import textwrap
import time

import pytest

from movie_enrichment.io import stop
from movie_enrichment.io.tmdb import budget, state
from movie_enrichment.io.tmdb.budget import RATE_MARGIN, SharedBudget, budget_path, default_dir
from movie_enrichment.io.tmdb.settings import TmdbSettings


class Clock:
    def __init__(self):
        self.t = 5000.0

    def now(self) -> float:
        return self.t


def test_two_budgets_on_one_file_share_one_schedule(tmp_path):
    clock = Clock()
    path = str(tmp_path / "api.example.org.json")
    first, second = (SharedBudget(path, 40, now=clock.now) for _ in range(2))
    moments = []
    for _ in range(30):  # the two processes ask at the very same moments
        moments += [first.reserve(), second.reserve()]
        clock.t += 0.01
    gaps = [b - a for a, b in zip(moments, moments[1:])]
    assert gaps == pytest.approx([1 / (40 * RATE_MARGIN)] * 59), "one schedule for both, at the machine's rate"


def test_a_process_asked_to_stop_waits_no_longer_for_its_turn(tmp_path):
    budget = SharedBudget(str(tmp_path / "api.example.org.json"), 0.2)  # one request every 5 s
    budget.acquire()
    stop.request()
    try:
        started = time.monotonic()
        budget.acquire()  # its moment is 5 s away
        waited = time.monotonic() - started
    finally:
        stop.clear()
    assert waited < 1.0


def test_budgets_of_two_hosts_do_not_wait_for_each_other(tmp_path):
    clock = Clock()
    first = SharedBudget(budget_path(str(tmp_path), "https://api.themoviedb.org/3"), 20, now=clock.now)
    second = SharedBudget(budget_path(str(tmp_path), "http://127.0.0.1:8080/3"), 20, now=clock.now)
    assert first.path != second.path and second.path.endswith("127.0.0.1_8080.json")
    assert first.reserve() == second.reserve() == clock.t


def test_a_file_left_from_another_boot_or_damaged_is_started_afresh(tmp_path):
    clock = Clock()
    path = tmp_path / "h.json"
    path.write_text('{"next": 9e9, "sent": []}')
    assert SharedBudget(str(path), 20, now=clock.now).reserve() == clock.t
    path.write_text('{"next": ')
    assert SharedBudget(str(path), 20, now=clock.now).reserve() == clock.t


def test_the_budget_folder_follows_xdg_cache_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_dir() == str(tmp_path / "movie_enrichment" / "rate")


def test_a_client_takes_the_machine_budget_unless_told_not_to(tmp_path):
    state.forget_process_state()
    shared = state.acquire()
    settings = TmdbSettings(api_key="k", base_url="http://127.0.0.1:9/3", budget_dir=str(tmp_path), machine_rate=40,
                            max_requests_per_second=10)
    budget = shared.limits(settings).budget
    assert budget is not None and budget.path == str(tmp_path / "127.0.0.1_9.json")
    assert shared.limits(TmdbSettings(api_key="k", base_url="http://127.0.0.1:9/3", budget_dir=None)).budget is None
    assert shared.limits(TmdbSettings(api_key="k", max_requests_per_second=0, budget_dir=str(tmp_path))).budget is None


# The module alone, by its file: the package would import Apache Beam (a second per process).
_RESERVE = textwrap.dedent("""
    import importlib.util, sys
    spec = importlib.util.spec_from_file_location("budget", sys.argv[2])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    budget = module.SharedBudget(sys.argv[1], 50)
    print("ready", flush=True)
    sys.stdin.readline()
    for _ in range(25):
        print(budget.reserve(), flush=True)
""")


def test_two_real_processes_keep_to_one_rate_together(tmp_path):
    path = str(tmp_path / "host.json")
    procs = [subprocess.Popen([sys.executable, "-c", _RESERVE, path, budget.__file__], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True) for _ in range(2)]
    for proc in procs:
        assert proc.stdout.readline().strip() == "ready"
    for proc in procs:  # both go at once
        proc.stdin.write("go\n")
        proc.stdin.flush()
    moments = sorted(float(line) for proc in procs for line in proc.communicate(timeout=60)[0].split())
    assert len(moments) == 50
    gaps = [b - a for a, b in zip(moments, moments[1:])]
    # time.monotonic() is one clock for every process of the machine: one schedule of 50 * RATE_MARGIN a second.
    assert min(gaps) == pytest.approx(1 / (50 * RATE_MARGIN), rel=1e-6)
