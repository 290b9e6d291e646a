"""processes.alive: a running process counts, an ended one does not, nor a zombie (ours or another's)."""

import os
import subprocess
import sys
import time

from movie_enrichment.io import processes


def _sleeper() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


def test_a_running_process_is_alive():
    child = _sleeper()
    try:
        assert processes.alive(os.getpid())
        assert processes.alive(child.pid)
    finally:
        child.kill()
        child.wait()


def test_our_ended_child_is_not_alive_and_is_reaped():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while processes.alive(child.pid):  # a zombie until reaped: alive() reaps it and says so
        assert time.monotonic() < deadline, "the child that exits at once still counts as running"
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{child.pid}")  # reaped, not left a zombie
    child.returncode = 0  # Popen's own wait would find no child now


def test_a_zombie_of_another_process_is_not_alive():
    # A parent that starts a child, lets it die and does not reap it: the child stays a zombie of that parent.
    parent = subprocess.Popen(
        [sys.executable, "-c",
         "import subprocess, sys, time\n"
         "c = subprocess.Popen([sys.executable, '-c', 'pass'])\n"
         "print(c.pid, flush=True)\n"
         "time.sleep(60)\n"],
        stdout=subprocess.PIPE, text=True)
    try:
        zombie = int(parent.stdout.readline())
        deadline = time.monotonic() + 30
        while True:
            with open(f"/proc/{zombie}/stat", "rb") as handle:
                if handle.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                    break
            assert time.monotonic() < deadline, "the grandchild never ended"
            time.sleep(0.05)
        assert not processes.alive(zombie)
    finally:
        parent.kill()
        parent.wait()


def test_a_pid_no_process_has_is_not_alive():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not processes.alive(child.pid)
