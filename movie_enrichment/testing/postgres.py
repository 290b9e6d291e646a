"""A throwaway PostgreSQL server for tests and benchmarks: initdb into a folder, start on 127.0.0.1, stop."""

import contextlib
import dataclasses
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from typing import Iterator

from movie_enrichment.io import processes

# PostgreSQL refuses to run as root: as root the server runs as this system user (Debian's package makes it).
SERVER_USER = "postgres"
SUPERUSER = "movie_enrichment"
_PREFIX = "me-postgres-"
_OWNER = "owner.pid"  # the process whose session started the server


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine (scripts/install_postgres.sh installs them)."""


def find_bindir() -> str:
    """The folder holding initdb, pg_ctl and postgres: $PG_BINDIR, then PATH, then Debian's versioned folders."""
    candidates = [os.environ.get("PG_BINDIR", "")]
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(os.path.dirname(os.path.realpath(on_path)))
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates:
        if folder and all(os.access(os.path.join(folder, name), os.X_OK) for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    raise PostgresUnavailable("PostgreSQL server binaries (initdb, pg_ctl) not found; run scripts/install_postgres.sh")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclasses.dataclass
class PostgresServer:
    """A running server: connect with `url(dbname)` (no password: trust authentication on 127.0.0.1 only)."""

    port: int
    datadir: str
    bindir: str
    user: str = SUPERUSER

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        """Creates a database and returns its URL."""
        import psycopg
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", SERVER_USER, "--"] + command


@contextlib.contextmanager
def running_server(base_dir: str | None = None, durable: bool = False) -> Iterator[PostgresServer]:
    """Starts a private PostgreSQL server on 127.0.0.1 and a free port; stops it and removes its files after.

    Args:
        base_dir: where its temporary folder goes (default: the system's; the server user must reach it).
        durable: keep PostgreSQL's default fsync and full-page writes (for benchmarks); tests go without.

    Raises:
        PostgresUnavailable: the binaries are missing.
    """
    bindir = find_bindir()
    stop_abandoned(bindir, base_dir)
    root = tempfile.mkdtemp(prefix=_PREFIX, dir=base_dir)
    with open(os.path.join(root, _OWNER), "w", encoding="ascii") as owner:
        owner.write(str(os.getpid()))
    datadir, sockets = os.path.join(root, "data"), os.path.join(root, "sockets")
    os.makedirs(sockets)
    if os.geteuid() == 0:
        user = pwd.getpwnam(SERVER_USER)
        os.chmod(root, 0o755)
        for path in (root, sockets):
            os.chown(path, user.pw_uid, user.pw_gid)
    port = free_port()
    log = os.path.join(root, "server.log")
    subprocess.run(_as_server_user([os.path.join(bindir, "initdb"), "-D", datadir, "-U", SUPERUSER,
                                    "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"]),
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    options = (f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={sockets} "
               "-c max_connections=40 -c shared_buffers=64MB")
    if not durable:
        options += " -c fsync=off -c full_page_writes=off"
    subprocess.run(_as_server_user([os.path.join(bindir, "pg_ctl"), "-D", datadir, "-l", log, "-o", options,
                                    "-w", "-t", "60", "start"]),
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    server = PostgresServer(port, datadir, bindir)
    try:
        _wait_for(port)
        yield server
    finally:
        subprocess.run(_as_server_user([os.path.join(bindir, "pg_ctl"), "-D", datadir, "-m", "immediate",
                                        "-w", "stop"]), check=False, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        shutil.rmtree(root, ignore_errors=True)


def stop_abandoned(bindir: str, base_dir: str | None = None) -> int:
    """Stops and removes the servers of test sessions that died without their teardown (a SIGKILL, a timeout):
    their owner process is gone. Returns how many were removed."""
    removed = 0
    for root in glob.glob(os.path.join(base_dir or tempfile.gettempdir(), _PREFIX + "*")):
        try:
            with open(os.path.join(root, _OWNER), encoding="ascii") as owner:
                pid = int(owner.read().strip())
        except (OSError, ValueError):
            continue
        if processes.alive(pid):
            continue
        if os.path.exists(os.path.join(root, "data", "postmaster.pid")):
            subprocess.run(_as_server_user([os.path.join(bindir, "pg_ctl"), "-D", os.path.join(root, "data"),
                                            "-m", "immediate", "-w", "stop"]), check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(root, ignore_errors=True)
        removed += 1
    return removed


def _wait_for(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
