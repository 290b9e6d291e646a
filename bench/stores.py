"""Database stores beside the JSON file: S3 (1% of 50,000 movies) and S4 (rows written = rows changed).

    python -m bench.stores               # S3 on 50,000 movies, S4 with 10, 100 and 1,000 changed (~10 min)
    python -m bench.stores --quick       # 5,000 movies
    python -m bench.stores --out DIR     # where the data and logs go (default bench/out/stores)

Each run is the real command in its own process (bench.measure: wall time, peak RSS of its process tree),
run through a wrapper that records the process's /proc/self/io at exit: `wchar`, every byte it handed to
write(). The SQLite file is written by that process; PostgreSQL's writes happen in the server, so for it the
figure is the WAL the server generated during the run (pg_current_wal_lsn before and after), the bytes that
reach its disk first (the server runs with PostgreSQL's defaults: fsync and full-page writes on). The
database is converted into each store beforehand (not measured). Results go to stdout and `<out>/stores.json`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
from pathlib import Path

from bench import measure, synth
from bench.server import API_KEY, Server

ROOT = Path(__file__).resolve().parents[1]

_WRAPPER = """
import atexit, runpy, sys
io_path = sys.argv[1]
def _io():
    with open(io_path, "w") as out, open("/proc/self/io") as io:
        out.write(io.read())
atexit.register(_io)
sys.argv = ["movie-enrich"] + sys.argv[2:]
runpy.run_module("movie_enrichment", run_name="__main__")
"""


def _env(run_dir: Path) -> dict:
    import os
    env = {k: v for k, v in os.environ.items() if k != "TMDB_API_KEY"}
    env.update(TMDB_API_KEY=API_KEY, XDG_CACHE_HOME=str(run_dir / "xdg"), PYTHONPATH=str(ROOT))
    return env


def _convert(source: Path, target: str, run_dir: Path) -> None:
    import subprocess
    done = subprocess.run([sys.executable, "-m", "movie_enrichment", "convert", "--input", str(source),
                           "--output", target], env=_env(run_dir), capture_output=True, text=True, cwd=run_dir)
    if done.returncode:
        raise RuntimeError(f"convert failed: {done.stderr.strip()}")


def _read_io(path: Path) -> dict:
    try:
        return {k: int(v) for k, v in (line.split(": ") for line in path.read_text().splitlines())}
    except (OSError, ValueError):
        return {}


def _wal_position(url: str | None) -> int | None:
    if not url:
        return None
    import psycopg
    with psycopg.connect(url, autocommit=True) as conn:
        return int(conn.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()[0])


def run_store(kind: str, source: Path, target: str, server: Server, run_dir: Path, pg_url: str | None) -> dict:
    """Enriches `target` (a JSON path or a store URL) once, measured."""
    io_path = run_dir / f"{kind}.io"
    argv = [sys.executable, "-c", _WRAPPER, str(io_path), "--input", target, "--tmdb_base_url", server.url,
            "--no_http_cache", "--progress", "off", "--max_requests_per_second", "0"]
    server.reset()
    wal_before = _wal_position(pg_url)
    measured = measure.run(argv, env=_env(run_dir), cwd=str(run_dir), log_path=str(run_dir / f"{kind}.log"))
    wal_after = _wal_position(pg_url)
    io = _read_io(io_path)
    report_path = {"json": run_dir / "movies.json.report.json", "sqlite": run_dir / "movies.db.report.json"}.get(
        kind, run_dir / f"{target.rsplit('/', 1)[-1]}.movies.report.json")
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    row = {"store": kind, "wall_s": round(measured.wall, 2), "cpu_s": round(measured.cpu, 2),
           "peak_rss_mib": round(measured.peak_rss / 2**20, 1), "returncode": measured.returncode,
           "requests": server.stats()["total"], "process_bytes_written": io.get("wchar"),
           "server_wal_bytes": (wal_after - wal_before) if wal_before is not None else None,
           "movies_looked_up": report.get("movies_looked_up"), "rows_read": report.get("rows_read"),
           "rows_written": report.get("rows_written"), "transactions": report.get("write_transactions")}
    if measured.returncode:
        row["error"] = (measured.stderr.strip().splitlines() or [""])[-1][:300]
    print(f"  {kind:<10} {row['wall_s']:>7.1f} s  {row['peak_rss_mib']:>7.0f} MiB  "
          f"process wrote {_mib(row['process_bytes_written'])}"
          + (f", server WAL {_mib(row['server_wal_bytes'])}" if row["server_wal_bytes"] is not None else "")
          + f"  looked up {row['movies_looked_up']}, rows read {row['rows_read']}, "
          f"rows written {row['rows_written']}" + (f"  ERROR {row['error']}" if "error" in row else ""),
          flush=True)
    return row


def _mib(value) -> str:
    return "-" if value is None else f"{value / 2**20:.2f} MiB"


def scenario(name: str, size: int, pending: int, out: Path, pg) -> list[dict]:
    print(f"{name}: {pending} of {size} movies to enrich", flush=True)
    data = synth.make(out / name / "data", size, pending)
    rows = []
    with Server(str(data["catalog"]), log_path=str(out / name / "server.log")) as server:
        for kind in ("json", "sqlite", "postgresql"):
            if kind == "postgresql" and pg is None:
                continue
            run_dir = out / name / kind
            shutil.rmtree(run_dir, ignore_errors=True)
            run_dir.mkdir(parents=True)
            db = run_dir / "movies.json"
            shutil.copyfile(data["db"], db)
            if kind == "json":
                target = str(db)
            elif kind == "sqlite":
                target = f"sqlite:///{run_dir / 'movies.db'}"
                _convert(db, target, run_dir)
            else:
                target = pg.create_database(f"bench_{name.replace('-', '_').lower()}")
                _convert(db, target, run_dir)
            row = run_store(kind, db, target, server, run_dir, target if kind == "postgresql" else None)
            row.update(scenario=name, size=size, pending=pending, db_bytes=data["db_bytes"])
            rows.append(row)
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "stores"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    size = 5000 if args.quick else 50000
    from movie_enrichment.testing.postgres import PostgresUnavailable, running_server
    with contextlib.ExitStack() as stack:
        try:
            pg = stack.enter_context(running_server(durable=True))
        except PostgresUnavailable as error:
            print(f"PostgreSQL left out: {error}")
            pg = None
        rows = scenario("S3", size, size // 100, out, pg)
        for n in ((10, 50) if args.quick else (10, 100, 1000)):
            rows += scenario(f"S4-{n}", size, n, out, pg)
    (out / "stores.json").write_text(json.dumps(rows, indent=2) + "\n")
    print(f"figures in {out / 'stores.json'}")
    return 0 if all(r["returncode"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
