"""The local TMDB server in its own process (its CLI), so that its CPU is not spent inside the measured one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request

API_KEY = "bench-api-key"


class Server:
    """`python -m movie_enrichment.testing.tmdb_server` on 127.0.0.1, on a free port."""

    def __init__(self, catalog: str | None, latency_ms: float = 0, rate_limit: float | None = None,
                 log_path: str | None = None, python: str = sys.executable, extra: list[str] | None = None):
        # catalog None: the server's bundled catalogue (the one the sample database's films are in).
        self.argv = [python, "-m", "movie_enrichment.testing.tmdb_server", "--port", "0",
                     *(["--catalog", str(catalog)] if catalog is not None else []),
                     "--latency-ms", str(latency_ms), "--api-key", API_KEY]
        if rate_limit:
            self.argv += ["--rate-limit", str(rate_limit)]
        self.argv += extra or []
        self.latency_ms, self.rate_limit = latency_ms, rate_limit
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.url: str | None = None  # the API root, .../3
        self.root: str | None = None

    def start(self, wait: float = 120.0) -> "Server":
        err = open(self.log_path, "wb") if self.log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=err, text=True)
        deadline = time.monotonic() + wait
        line = ""
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if "listening on" in line:
                self.url = line.rsplit(" ", 1)[1].strip()
                self.root = self.url.rsplit("/3", 1)[0]
                return self
            if not line and self.proc.poll() is not None:
                break
        self.stop()
        raise RuntimeError(f"the TMDB test server did not start: {line!r} (see {self.log_path})")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def stats(self) -> dict:
        with urllib.request.urlopen(self.root + "/__stats", timeout=10) as response:
            return json.loads(response.read())

    def reset(self) -> None:
        request = urllib.request.Request(self.root + "/__reset", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def cpu_seconds(self) -> float:
        """The server process's CPU time so far (to show how busy it was)."""
        try:
            with open(f"/proc/{self.proc.pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, AttributeError, IndexError, ValueError):
            return float("nan")
