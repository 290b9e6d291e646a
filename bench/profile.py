"""Reading the profiles: py-spy's collapsed stacks (every thread) by category, and the probe's timeline."""

from __future__ import annotations

import collections
import json
import re
import shutil
import sys
from pathlib import Path

# A stack whose innermost frame is one of these is a thread waiting, not working.
_WAITING = re.compile(r"^(Condition\.wait|Event\.wait|Semaphore\.acquire|Queue\.get|_wait_once|wait|select|"
                      r"sleep|_worker|BaseSelector\.select|poll|accept|recv_into|SocketIO\.readinto|"
                      r"Thread\.join|Thread\._wait_for_tstate_lock|Lock\.acquire|_RequestIterator\._next|Thread\.run|"
                      r"_run_channel_spin_thread\.<locals>\.channel_spin|_serve|_UnaryUnaryMultiCallable\._blocking) ")

# (category, pattern searched in the whole stack), first match wins: the most specific first.
CATEGORIES = [
    ("start-up: imports", r"_find_and_load "),
    ("read: parse the database (orjson)", r"_ReadDatabaseFn\.process .*parse_snapshot"),
    ("read: file bytes", r"read_bytes "),
    ("read: emit records", r"_ReadDatabaseFn\.process"),
    ("select movies", r"SelectMoviesFn\.process"),
    ("sink: parse the snapshot again", r"_WriteDatabaseFn\.process .*parse_snapshot"),
    ("sink: serialize (orjson)", r"serialize_chunks "),
    ("sink: backup copy + atomic write + fsync", r"(write_temp|_backup|_replace|_unchanged) "),
    ("sink: collect patches, apply", r"_WriteDatabaseFn\.process"),
    ("checkpoints", r"CheckpointStore\."),
    ("lookup: title matching", r"match_movie .*(_score_all|_decide|_ranked|title_similarity)"),
    ("lookup: HTTP client (requests/urllib3)", r"(TmdbClient\.get|requests/|urllib3/)"),
    ("lookup: other", r"LookupTmdbFn"),
    ("metadata + images enrichers", r"(EnrichPartsFn|MetadataEnricher|ImagesEnricher)"),
    ("merge parts", r"merge_parts"),
    ("failures list", r"_WriteFailuresFn"),
    ("Beam: element coders (shuffles, side inputs)", r"(coder_impl|coders\.py|pickler|_pickle|dill|cloudpickle)"),
    ("Beam: graph build and submission", r"(build_pipeline|Pipeline\.run |to_runner_api|from_runner_api|"
                                         r"translations\.py|fn_api_runner\.py.*(optimize|create_stages))"),
    ("Beam: runner, bundles, gRPC data plane", r"(apache_beam/runners|grpc/)"),
    ("harness: probe, progress, report", r"(bench/probe|progress\.py|report\.py)"),
]


def available() -> bool:
    return shutil.which("py-spy") is not None or Path(sys.executable).with_name("py-spy").exists()


def py_spy() -> str:
    candidate = Path(sys.executable).with_name("py-spy")
    return str(candidate) if candidate.exists() else "py-spy"


def wrap(argv: list[str], out: str, rate: int = 100) -> list[str]:
    # --nonblocking: read the stacks without pausing the process, so the profiled run keeps its pace.
    return [py_spy(), "record", "--nonblocking", "--rate", str(rate), "--format", "raw", "--output", out, "--", *argv]


def read_stacks(path: str) -> list[tuple[list[str], int]]:
    stacks = []
    for line in Path(path).read_text(errors="replace").splitlines():
        text, _, count = line.rpartition(" ")
        if not text.strip() or not count.isdigit():
            continue
        stacks.append((text.split(";"), int(count)))
    return stacks


def by_category(path: str, rate: int = 100) -> dict:
    """CPU samples by category (waiting threads left out), and the functions with the most self samples."""
    totals: collections.Counter = collections.Counter()
    leaves: collections.Counter = collections.Counter()
    busy = 0
    for frames, count in read_stacks(path):
        leaf = frames[-1]
        if _WAITING.match(leaf):
            continue
        busy += count
        joined = ";".join(frames)
        category = next((name for name, pattern in CATEGORIES if re.search(pattern, joined)), "other")
        totals[category] += count
        leaves[re.sub(r":\d+\)", ")", leaf)] += count
    return {"rate": rate, "busy_samples": busy, "cpu_seconds": busy / rate,
            "categories": totals.most_common(), "top_functions": leaves.most_common(12)}


def timeline(path: str) -> list[tuple[str, int, float, float, float]]:
    """The probe's records as (name, calls, first start, last end, time inside), in order of start."""
    data = json.loads(Path(path).read_text())
    rows = [(name, p["calls"], p["first_start"], p["last_end"], p["inside"]) for name, p in data["probes"].items()]
    rows.sort(key=lambda r: r[2])
    rows.append(("process exit (probe end)", 1, data["end"], data["end"], 0.0))
    return rows
