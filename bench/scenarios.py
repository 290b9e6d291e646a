"""The benchmark's scenarios: the sizes of each mode, one measured run of a peer or the pipeline, the scenarios
S1-S4, R and M made of such runs (C, S5, L and D are run by bench/catalogue.py, bench/shared_key.py,
bench/breadth.py), the checks that every run's output agrees, and the machine and versions measured.

The TMDB test server runs in its own process (its CLI); its counts are read through GET /__stats and reset
through POST /__reset before every run. Every measured command is a separate process, timed from start to
exit, with the RSS of its whole process tree sampled every 50 ms. bench/report.py turns the results into
RESULTS.md; bench/run.py is the command that runs them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson

from bench import breadth, catalogue, download_images, fileio, measure, profile, shared_key, synth
from bench.server import API_KEY, Server

ROOT = Path(__file__).resolve().parents[1]
PEERS = ("n_plus_one", "load_once", "thread_pool", "beam_enrichment")
PIPELINE = "pipeline"
CONCURRENCY = 16
BEAM_WORKERS = 4


# --- sizes ------------------------------------------------------------------------------------------------

MODES = {
    "full": {
        "S1": {"size": 2000, "latency": 20, "limits": {"n_plus_one": 200},
               "extra_pipeline": [["--no_http_cache"], ["--max_concurrency", "40"]],
               "extra_peers": [("beam_enrichment", ["--workers", "16"])], "profile": True, "rounds": 3},
        # TMDB's own latency and limit: 150 ms, 40 requests/s.
        "S2": {"size": 1000, "latency": 150, "rate": 40, "peers": ["thread_pool"],
               "extra_pipeline": [["--no_http_cache"]]},
        "S3": {"size": 50000, "pending": 500, "limits": {"n_plus_one": 5}, "profile": True},
        "S4": {"size": 50000, "ns": [10, 100, 1000], "n_plus_one_measured": 10, "n_plus_one_probe": 3},
        "R": {"size": 500},
        "C": {"sizes": [5000, 50000], "noise": 2000},
        # Issue 22's case: 4 runs at once with the defaults against one 40 requests/s limit, then one alone.
        "S5": {"runs": 4, "movies": 250, "rate": 40},
        # Issue 23 point 7: the same new films, all found on TMDB, then only one in 20 found.
        "M": {"size": 50000, "found_one_in": 20},
        # Issue 24: the sample plain, with the language chain, countries and image order, then another chain.
        "L": {},
        # Issue 26: 2,000 films, metadata only, links, --download_images, then a rerun with everything stored.
        "D": {"movies": 2000},
    },
    "quick": {
        "S1": {"size": 200, "latency": 20, "limits": {"n_plus_one": 50}, "extra_pipeline": [["--no_http_cache"]],
               "profile": True},
        "S2": {"size": 200, "latency": 150, "rate": 40, "peers": ["thread_pool"]},
        "S3": {"size": 5000, "pending": 50, "limits": {"n_plus_one": 5}, "profile": True},
        "S4": {"size": 5000, "ns": [10, 50], "n_plus_one_measured": 10, "n_plus_one_probe": 3},
        "R": {"size": 100},
        "C": {"sizes": [500, 2000], "noise": 200},
        "S5": {"runs": 4, "movies": 60, "rate": 40},
        "M": {"size": 2000, "found_one_in": 20},
        "L": {},
        "D": {"movies": 300},
    },
    "smoke": {
        "S1": {"size": 20, "latency": 5, "limits": {}},
    },
}


# --- one run ----------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Row:
    scenario: str
    name: str
    movies: int  # movies that needed enrichment in the database
    done: int  # movies this run was asked to enrich (the --limit subset, or all)
    wall: float
    cpu: float
    peak_rss: int
    returncode: int
    requests: int
    by_status: dict
    by_endpoint: dict
    server_cpu: float
    timeline: list = dataclasses.field(default_factory=list)
    note: str = ""
    output_check: str = ""
    opens: dict | None = None
    extrapolated_wall: float | None = None
    strace: bool = False
    run_dir: str = ""
    load: float = 0.0  # the machine's 1-minute load average when the run started
    code: str = ""  # code_version() when the run started
    first_request: float | None = None  # seconds from the command's start to the server's first request

    @property
    def ok2xx(self) -> int:
        return sum(v for k, v in self.by_status.items() if k.startswith("2"))

    @property
    def throttled(self) -> int:
        return self.by_status.get("429", 0)

    @property
    def per_movie(self) -> float:
        work = self.requests - self.by_endpoint.get("configuration", 0)
        return work / self.done if self.done else float("nan")

    @property
    def best_wall(self) -> float:
        return self.extrapolated_wall if self.extrapolated_wall is not None else self.wall


def _env(run_dir: Path) -> dict:
    env = dict(os.environ)
    env["TMDB_API_KEY"] = API_KEY
    env["XDG_CACHE_HOME"] = str(run_dir / "xdg-cache")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    return env


def command(name: str, db: Path, url: str, rate: float, limit: int = 0, extra: list[str] | None = None) -> list[str]:
    py = sys.executable
    if name.startswith(PIPELINE):
        # The defaults users run: the HTTP cache on (a fresh cache folder per run, see _env).
        return [py, "-m", "movie_enrichment", "--input", str(db), "--output", str(db), "--tmdb_base_url", url,
                "--progress", "off", "--max_requests_per_second", f"{rate:g}", *(extra or [])]
    argv = [py, "-m", f"bench.peers.{name}", "--input", str(db), "--output", str(db), "--base-url", url,
            "--api-key", API_KEY, "--concurrency", str(CONCURRENCY), "--max-requests-per-second", f"{rate:g}"]
    if limit:
        argv += ["--limit", str(limit)]
    if name == "beam_enrichment":
        argv += ["--workers", str(BEAM_WORKERS)]
    return argv + (extra or [])


def run_one(scenario: str, label: str, name: str, source: Path, pending: int, server: Server, out: Path,
            rate: float = 0.0, limit: int = 0, extra: list[str] | None = None, strace: bool = False,
            poll: bool = False, log=print) -> Row:
    run_dir = out / scenario / label.replace(" ", "_").replace("/", "_")
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)
    db = run_dir / "movies.json"
    shutil.copyfile(source, db)
    argv = command(name, db, server.url, rate, limit, extra)
    if strace:
        argv = fileio.wrap(argv, str(run_dir / "strace.txt"))
    server.reset()
    cpu_before = server.cpu_seconds()
    load = os.getloadavg()[0]
    code = code_version()
    log(f"  {scenario} {label}: running" + (f" (first {limit} movies of {pending})" if limit else "") +
        (" under strace" if strace else ""))
    measured = measure.run(argv, env=_env(run_dir), cwd=str(ROOT), log_path=str(run_dir / "log"),
                           poll=server.stats if poll else None)
    stats = server.stats()
    done = min(limit, pending) if limit else pending
    row = Row(scenario, label, pending, done, measured.wall, measured.cpu, measured.peak_rss, measured.returncode,
              stats["total"], stats["by_status"], stats["by_endpoint"], server.cpu_seconds() - cpu_before,
              measured.timeline, strace=strace, run_dir=str(run_dir), load=load, code=code,
              first_request=stats["first_at"] - measured.started if stats.get("first_at") else None)
    if limit and limit < pending:
        row.extrapolated_wall = measured.wall * pending / limit
    if strace:
        row.opens = fileio.classify(str(run_dir / "strace.txt"), str(db))
    if measured.killed:
        row.note = f"FAILED: {measured.killed}"
    elif measured.returncode != 0:
        last = (measured.stderr.strip().splitlines() or [""])[-1][:300]
        row.note = f"FAILED (exit {measured.returncode}){': ' + last if last else ''}"
    log(f"    {measured.wall:.1f} s, {measured.cpu:.1f} s CPU, peak RSS {measured.peak_rss / 2**20:.0f} MiB, "
        f"{stats['total']} requests {stats['by_status']}" + (f" {row.note}" if row.note else ""))
    return row


# --- outputs ----------------------------------------------------------------------------------------------

def digests(path: Path) -> dict[str, bytes]:
    """A digest per record, the run-dependent `updated_at` times left out."""
    db = orjson.loads(path.read_bytes())
    result = {}
    for key, record in db.items():
        if isinstance(record, dict) and isinstance(record.get("enrichment"), dict):
            record = {**record, "enrichment": {
                name: ({k: v for k, v in outcome.items() if k != "updated_at"} if isinstance(outcome, dict) else outcome)
                for name, outcome in record["enrichment"].items()}}
        result[key] = hashlib.blake2b(orjson.dumps(record, option=orjson.OPT_SORT_KEYS), digest_size=16).digest()
    return result


def ok_count(path: Path, keys: set[str]) -> int:
    """How many of `keys` have both enrichers ok in the database at `path`."""
    db = orjson.loads(path.read_bytes())
    return sum(1 for k in keys if isinstance(db.get(k), dict) and all(
        ((db[k].get("enrichment") or {}).get(e) or {}).get("status") == "ok" for e in ("metadata", "images")))


def check_outputs(rows: list[Row], source: Path) -> None:
    """Sets each row's output_check against the reference run (the pipeline's, or the first complete one)."""
    complete = [r for r in rows if r.returncode == 0 and r.done == r.movies]
    if not complete:
        return
    reference = next((r for r in complete if r.name == PIPELINE), complete[0])
    if not all((Path(r.run_dir) / "movies.json").exists() for r in rows) or not source.exists():
        return  # scratch files removed since the run: keep the checks made then
    ref = digests(Path(reference.run_dir) / "movies.json")
    inp = digests(source)
    for row in rows:
        if row.returncode != 0:
            row.output_check = "no output (failed)"
            continue
        got = digests(Path(row.run_dir) / "movies.json")
        if list(got) != list(ref):
            row.output_check = "DIFFERS: keys or their order"
            continue
        differ = [k for k in ref if got[k] != ref[k]]
        changed = sum(1 for k in ref if got[k] != inp[k])
        if row is reference:
            ok = ok_count(Path(row.run_dir) / "movies.json", {k for k in ref if got[k] != inp[k]})
            row.output_check = f"reference ({changed} records enriched, {ok} of them ok)"
        elif not differ:
            row.output_check = f"= {reference.name}"
        elif row.done < row.movies and all(got[k] == inp[k] for k in differ):
            row.output_check = f"subset: {changed} enriched = {reference.name}, {len(differ)} left as input"
        else:
            row.output_check = f"DIFFERS from {reference.name} in {len(differ)} records"


# --- scenarios --------------------------------------------------------------------------------------------

def _server(data: dict, out: Path, scenario: str, latency: float = 0, rate_limit: float | None = None) -> Server:
    return Server(str(data["catalog"]), latency, rate_limit, log_path=str(out / scenario / "server.log"))


def _profile_run(scenario: str, source: Path, pending: int, server: Server, out: Path, rate: float, log) -> dict:
    """The pipeline once more, in-process probes (a timeline) and py-spy over every thread."""
    run_dir = out / scenario / "pipeline_profile"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)
    db = run_dir / "movies.json"
    shutil.copyfile(source, db)
    timeline_path = run_dir / "timeline.json"
    args = command(PIPELINE, db, server.url, rate)[3:]
    argv = [sys.executable, "-m", "bench.probe", str(timeline_path), "--", *args]
    spy_path = run_dir / "py-spy.txt"
    use_spy = profile.available()
    if use_spy:
        argv = profile.wrap(argv, str(spy_path), rate=100)
    server.reset()
    log(f"  {scenario} pipeline profile: running (probe timeline" + (" + py-spy)" if use_spy else ")"))
    measured = measure.run(argv, env=_env(run_dir), cwd=str(ROOT), log_path=str(run_dir / "log"))
    result: dict[str, Any] = {"wall": measured.wall, "returncode": measured.returncode, "peak_rss": measured.peak_rss,
                              "rss": measured.rss}
    if timeline_path.exists():
        result["timeline"] = profile.timeline(str(timeline_path))
    if use_spy and spy_path.exists():
        result["py_spy"] = profile.by_category(str(spy_path), 100)
    log(f"    {measured.wall:.1f} s (profiled)")
    return result


def scenario_s1(cfg: dict, out: Path, log) -> dict:
    size = cfg["size"]
    data = synth.make(out / "S1" / "data", size, size)
    peers = cfg.get("peers", list(PEERS))
    rounds = cfg.get("rounds", 1)
    # The three runs the targets compare (the defaults, the same without the HTTP cache, the thread-pool peer)
    # run `rounds` times, interleaved, after one untimed run that warms the system's caches; each keeps its
    # median run. One cold run of each, in a fixed order, put the first of them 30% behind on a quiet machine.
    paired = {PIPELINE: (PIPELINE, None), "pipeline --no_http_cache": (PIPELINE, ["--no_http_cache"]),
              "thread_pool": ("thread_pool", None)} if rounds > 1 else {}
    with _server(data, out, "S1", cfg["latency"]) as server:
        if paired:
            run_one("S1", "warm-up", PIPELINE, data["db"], size, server, out, rate=0, log=log)
        runs: dict[str, list[Row]] = {label: [] for label in paired}
        for _ in range(rounds if paired else 0):
            for label, (name, extra) in paired.items():
                runs[label].append(run_one("S1", label, name, data["db"], size, server, out, extra=extra, log=log))
        medians = {label: _median_run(found) for label, found in runs.items()}
        rows = [medians.get(PIPELINE) or run_one("S1", PIPELINE, PIPELINE, data["db"], size, server, out, rate=0,
                                                  log=log)]
        for name in ("thread_pool", "beam_enrichment", "load_once", "n_plus_one"):
            if name in peers:
                rows.append(medians.get(name) or run_one("S1", name, name, data["db"], size, server, out,
                                                         limit=cfg["limits"].get(name, 0), log=log))
        for name, extra in cfg.get("extra_peers", []):
            # The same peer configured otherwise (Beam's Enrichment with as many workers as thread_pool has threads).
            rows.append(run_one("S1", f"{name} {' '.join(extra)}", name, data["db"], size, server, out, extra=extra,
                                log=log))
        for extra in cfg.get("extra_pipeline", []):
            label = "pipeline " + " ".join(extra)
            rows.append(medians.get(label) or run_one("S1", label, PIPELINE, data["db"], size, server, out, rate=0,
                                                      extra=extra, log=log))
        prof = _profile_run("S1", data["db"], size, server, out, 0, log) if cfg.get("profile") else None
    check_outputs(rows, data["db"])
    return {"cfg": cfg, "data": _data_info(data), "rows": rows, "profile": prof}


def _median_run(rows: list[Row]) -> Row:
    """The run of median wall time among `rounds` runs of one command, saying what the others took."""
    ordered = sorted(rows, key=lambda r: r.wall)
    chosen = ordered[(len(ordered) - 1) // 2]
    chosen.note = chosen.note or ("median of %d interleaved runs (%s s)" % (
        len(rows), ", ".join(f"{r.wall:.1f}" for r in rows)))
    return chosen


def scenario_s2(cfg: dict, out: Path, log) -> dict:
    size, rate = cfg["size"], cfg["rate"]
    data = synth.make(out / "S2" / "data", size, size)
    with _server(data, out, "S2", cfg["latency"], rate_limit=rate) as server:
        rows = [run_one("S2", PIPELINE, PIPELINE, data["db"], size, server, out, rate=rate, poll=True, log=log)]
        for name in cfg.get("peers", []):
            rows.append(run_one("S2", name, name, data["db"], size, server, out, rate=rate, poll=True, log=log))
        for extra in cfg.get("extra_pipeline", []):
            # Informational, not a peer: the same pipeline without its HTTP cache.
            rows.append(run_one("S2", "pipeline " + " ".join(extra), PIPELINE, data["db"], size, server, out, rate=rate,
                                extra=extra, poll=True, log=log))
    check_outputs(rows, data["db"])
    return {"cfg": cfg, "data": _data_info(data), "rows": rows}


def scenario_s3(cfg: dict, out: Path, log) -> dict:
    size, pending = cfg["size"], cfg["pending"]
    data = synth.make(out / "S3" / "data", size, pending)
    with _server(data, out, "S3", 0) as server:
        rows = [run_one("S3", PIPELINE, PIPELINE, data["db"], pending, server, out, rate=0, log=log)]
        for name in ("load_once", "thread_pool", "beam_enrichment", "n_plus_one"):
            rows.append(run_one("S3", name, name, data["db"], pending, server, out,
                                limit=cfg["limits"].get(name, 0), log=log))
        prof = _profile_run("S3", data["db"], pending, server, out, 0, log) if cfg.get("profile") else None
    check_outputs(rows, data["db"])
    return {"cfg": cfg, "data": _data_info(data), "rows": rows, "profile": prof}


def scenario_s4(cfg: dict, out: Path, log) -> dict:
    size = cfg["size"]
    if not fileio.available():
        return {"cfg": cfg, "skipped": "strace is not installed (apt-get install -y strace)", "rows": []}
    measured_max, probe = cfg["n_plus_one_measured"], cfg["n_plus_one_probe"]
    rows, infos = [], []
    for n in cfg["ns"]:
        scenario = f"S4-{n}"
        data = synth.make(out / scenario / "data", size, n)
        infos.append(_data_info(data))
        with _server(data, out, scenario, 0) as server:
            group = [run_one(scenario, PIPELINE, PIPELINE, data["db"], n, server, out, rate=0, strace=True, log=log),
                     run_one(scenario, "load_once", "load_once", data["db"], n, server, out, strace=True, log=log)]
            if n <= measured_max:
                group.append(run_one(scenario, "n_plus_one", "n_plus_one", data["db"], n, server, out, strace=True,
                                     log=log))
            elif n == min(x for x in cfg["ns"] if x > measured_max):
                # A second, short measured point (the first `probe` movies of this database) for the line.
                group.append(run_one(scenario, "n_plus_one", "n_plus_one", data["db"], n, server, out,
                                     limit=probe, strace=True, log=log))
        check_outputs(group, data["db"])
        rows += group
    return {"cfg": cfg, "data": infos, "rows": rows, "fit": fit_opens(rows)}


def fit_opens(rows: list[Row]) -> dict | None:
    """The N+1 loop's opens as a line through its two measured points: opens = a + b * movies."""
    points = [(r.done, r.opens) for r in rows if r.name == "n_plus_one" and r.opens and r.returncode == 0]
    if len(points) < 2:
        return None
    (n1, o1), (n2, o2) = sorted(points, key=lambda p: p[0])[:2]
    fit = {}
    for key in ("db_read", "db_write"):
        slope = (o2[key] - o1[key]) / (n2 - n1) if n2 != n1 else 0.0
        fit[key] = (o1[key] - slope * n1, slope)
    return {"points": [n1, n2], "fit": fit}


def scenario_r(cfg: dict, out: Path, log) -> dict:
    size = cfg["size"]
    rows = []
    for known in (False, True):
        scenario = "R-known-id" if known else "R-no-id"
        data = synth.make(out / scenario / "data", size, size, known_id=known)
        with _server(data, out, scenario, 0) as server:
            group = [run_one(scenario, PIPELINE, PIPELINE, data["db"], size, server, out, rate=0, log=log),
                     run_one(scenario, "thread_pool", "thread_pool", data["db"], size, server, out, log=log)]
        check_outputs(group, data["db"])
        rows += group
    return {"cfg": cfg, "rows": rows}


def _data_info(data: dict) -> dict:
    return {"size": data["size"], "pending": data["pending"], "db_bytes": data["db_bytes"],
            "catalog_bytes": data["catalog_bytes"]}


def scenario_c(cfg: dict, out: Path, log) -> dict:
    """The full catalogue with the defaults: the scale curve, the HTTP cache's size, a weekly refresh."""
    sizes = cfg["sizes"]
    return {"cfg": cfg, "curve": [catalogue.scale(size, out / "C", cfg["noise"], size == max(sizes), log)
                                  for size in sizes]}


def scenario_s5(cfg: dict, out: Path, log) -> dict:
    """Several runs at once on one API key against the server's rate limit, then one alone."""
    code = code_version()
    return {"cfg": cfg, "code": code,
            "cases": shared_key.measure(cfg["runs"], cfg["movies"], cfg["rate"], out / "S5", log=log)}


def scenario_m(cfg: dict, out: Path, log) -> dict:
    """Memory with most films unmatched: one database of new films run twice with the defaults, against a
    catalogue of all of them, then of one in `found_one_in` (the others not found, a review line each)."""
    size, every = cfg["size"], cfg["found_one_in"]
    data = synth.make(out / "M" / "data", size, size)
    few = out / "M" / "data" / f"catalog_one_in_{every}.json"
    synth.write_json(few, [synth.details(i) for i in range(0, size, every)], indent=False)
    rows, review_bytes = [], {}
    for label, catalog in (("all matched", data["catalog"]), (f"most unmatched (1 in {every} found)", few)):
        with Server(str(catalog), 0, log_path=str(out / "M" / "server.log")) as server:
            row = run_one("M", label, PIPELINE, data["db"], size, server, out, rate=0, log=log)
        review = Path(row.run_dir) / "movies.json.review.jsonl"
        review_bytes[label] = review.stat().st_size if review.exists() else 0
        rows.append(row)
    return {"cfg": cfg, "data": _data_info(data), "rows": rows, "review_bytes": review_bytes}


def scenario_l(cfg: dict, out: Path, log) -> dict:
    """The language chain, certification countries and image order against a plain run (bench/breadth.py)."""
    return {"cfg": cfg, "code": code_version(), **breadth.measure(out / "L", log=log)}


def scenario_d(cfg: dict, out: Path, log) -> dict:
    """Image downloads against metadata only and links only (bench/download_images.py)."""
    return {"cfg": cfg, "code": code_version(), **download_images.measure(out / "D", cfg["movies"], log=log)}


RUNNERS = {"S1": scenario_s1, "S2": scenario_s2, "S3": scenario_s3, "S4": scenario_s4, "R": scenario_r,
           "C": scenario_c, "S5": scenario_s5, "M": scenario_m, "L": scenario_l, "D": scenario_d}


# --- machine and versions ---------------------------------------------------------------------------------

def machine() -> dict:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        kib = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
        ram = f"{kib / 2**20:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"nproc": nproc, "cpu": model, "ram": ram, "os": platform.platform()}


def code_version() -> str:
    """The pipeline code measured: a digest of movie_enrichment/*.py, with the git commit and whether it differs."""
    digest = hashlib.blake2b(digest_size=6)
    for path in sorted((ROOT / "movie_enrichment").rglob("*.py")):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip() or "?"
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "movie_enrichment"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        head, dirty = "?", ""
    return f"{digest.hexdigest()} (git {head}{' + uncommitted changes' if dirty else ''})"


def versions() -> dict:
    from importlib import metadata
    found = {"python": platform.python_version()}
    for name in ("apache-beam", "requests", "orjson", "urllib3", "psutil", "google-api-core", "py-spy"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    try:
        found["strace"] = subprocess.run(["strace", "-V"], capture_output=True, text=True).stdout.split("\n")[0]
    except OSError:
        found["strace"] = "not installed"
    return found
