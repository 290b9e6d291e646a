"""Running one measured command: wall time, CPU time, peak RSS of its whole process tree, server counts.

The RSS is sampled every 50 ms and summed over the command's process and all its descendants (psutil when
installed, /proc otherwise); the harness process and the TMDB server are not part of that tree.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import threading
import time
from typing import Callable, Sequence

try:
    import psutil
except ImportError:  # pragma: no cover - the /proc fallback below is used instead
    psutil = None

SAMPLE_SECONDS = 0.05
POLL_SECONDS = 0.1
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _tree_rss_proc(root: int) -> int:
    """Sum of RSS over `root` and its descendants, from /proc (Linux)."""
    total, todo, seen = 0, [root], set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            with open(f"/proc/{pid}/statm") as handle:
                total += int(handle.read().split()[1]) * _PAGE
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as handle:
                    todo.extend(int(c) for c in handle.read().split())
        except (OSError, ValueError):
            continue
    return total


def _tree_rss_psutil(root: int) -> int:
    try:
        parent = psutil.Process(root)
        procs = [parent] + parent.children(recursive=True)
    except psutil.Error:
        return 0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            pass
    return total


def tree_rss(root: int) -> int:
    return _tree_rss_psutil(root) if psutil is not None else _tree_rss_proc(root)


@dataclasses.dataclass
class Measured:
    argv: list[str]
    returncode: int
    wall: float
    cpu: float  # user + system seconds of the command and its (reaped) descendants
    peak_rss: int  # bytes, summed over the process tree, max over the samples
    samples: int
    stdout: str
    stderr: str
    timeline: list[tuple[float, dict]] = dataclasses.field(default_factory=list)  # (seconds, server counts)
    rss: list[tuple[float, int]] = dataclasses.field(default_factory=list)  # (seconds, tree RSS bytes)
    killed: str = ""  # why the harness killed the run, if it did
    started: float = 0.0  # time.monotonic() just before the command was started

    def ok(self) -> bool:
        return self.returncode == 0


def default_rss_cap() -> int:
    """Half the machine's memory: a run that needs more is stopped rather than allowed to starve the machine."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError):
        return 8 * 2**30


def run(argv: Sequence[str], env: dict | None = None, cwd: str | None = None, log_path: str | None = None,
        poll: Callable[[], dict] | None = None, poll_seconds: float = POLL_SECONDS, timeout: float = 3600,
        rss_cap: int | None = None) -> Measured:
    """Runs argv to completion and measures it. `poll`, if given, is called every poll_seconds meanwhile
    (the harness reads the server's /__stats with it) and its answers are kept as a timeline.

    The command runs in a session of its own; if its tree's RSS passes `rss_cap` (default: half the machine's
    memory) or it outlives `timeout`, that session is killed and the run reports `killed`."""
    rss_cap = rss_cap or default_rss_cap()
    killed: list[str] = []
    out_path = (log_path or os.devnull)
    with open(out_path + ".out" if log_path else os.devnull, "wb") as out, \
            open(out_path + ".err" if log_path else os.devnull, "wb") as err:
        started = time.monotonic()
        proc = subprocess.Popen(list(argv), env=env, cwd=cwd, stdout=out, stderr=err, start_new_session=True)

        def kill(reason: str) -> None:
            if not killed:
                killed.append(reason)
                try:
                    os.killpg(proc.pid, 9)  # the session started just above, and only it
                except OSError:
                    pass
        peak, samples, done = 0, 0, threading.Event()
        timeline: list[tuple[float, dict]] = []
        rss_series: list[tuple[float, int]] = []

        def sample():
            nonlocal peak, samples
            while not done.is_set():
                rss = tree_rss(proc.pid)
                rss_series.append((time.monotonic() - started, rss))
                peak = max(peak, rss)
                if rss > rss_cap:
                    kill(f"killed by the harness: process tree RSS {rss / 2**30:.1f} GiB passed the cap "
                         f"of {rss_cap / 2**30:.1f} GiB")
                samples += 1
                done.wait(SAMPLE_SECONDS)

        def poller():
            while not done.wait(poll_seconds):
                try:
                    timeline.append((time.monotonic() - started, poll()))
                except Exception:  # pylint: disable=broad-except
                    pass

        threads = [threading.Thread(target=sample, daemon=True)]
        if poll is not None:
            threads.append(threading.Thread(target=poller, daemon=True))
        for thread in threads:
            thread.start()
        deadline = started + timeout
        status = None
        while status is None:
            pid, status_word, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                status = os.waitstatus_to_exitcode(status_word)
                break
            if time.monotonic() > deadline:
                kill(f"killed by the harness after {timeout:.0f} s")
            time.sleep(0.01)
        wall = time.monotonic() - started
        proc.returncode = status
        done.set()
        for thread in threads:
            thread.join(timeout=5)
    if poll is not None:
        try:
            timeline.append((wall, poll()))
        except Exception:  # pylint: disable=broad-except
            pass
    text = {}
    for name in ("out", "err"):
        try:
            with open(f"{log_path}.{name}", errors="replace") as handle:
                text[name] = handle.read()[-20000:]
        except (OSError, TypeError):
            text[name] = ""
    return Measured(list(argv), status, wall, usage.ru_utime + usage.ru_stime, peak, samples, text["out"],
                    text["err"], timeline, rss_series, killed[0] if killed else "", started)
