"""Runs the pipeline's command in this process with timers around its main steps: a wall-clock timeline.

    python -m bench.probe TIMELINE.json -- <the arguments of python -m movie_enrichment>

The DirectRunner (the FnApiRunner, multi_threading) runs every DoFn in this process, so wrapping the
project's functions here times them where they really run. Each probe records its calls, the first start,
the last end and the time spent inside (summed over threads). Nothing of the pipeline is changed otherwise;
the figures of the timed runs come from plain `python -m movie_enrichment`, not from this.

A probe whose target is gone, or that never fires during a run that succeeded, fails the run (exit status 1,
named on stderr): the pipeline no longer calls what it times, so a phase would silently vanish from the
profiles. Point it at what the pipeline calls now (tests/test_bench_probe.py checks them all).
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import sys
import threading
import time

_T0 = time.monotonic()
_LOCK = threading.Lock()
PROBES: dict[str, dict] = {}


def _process_age() -> float:
    """Seconds since this process started (interpreter start-up included)."""
    try:
        with open("/proc/self/stat") as handle:
            start_ticks = int(handle.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as handle:
            uptime = float(handle.read().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


_BORN = _process_age()  # at _T0


def _now() -> float:
    return time.monotonic() - _T0 + _BORN


def _record(name: str, start: float, end: float, count: bool = True) -> None:
    with _LOCK:
        probe = PROBES.setdefault(name, {"calls": 0, "first_start": start, "last_end": end, "inside": 0.0})
        probe["calls"] += 1 if count else 0
        probe["first_start"] = min(probe["first_start"], start)
        probe["last_end"] = max(probe["last_end"], end)
        probe["inside"] += end - start


_CALLS: dict[str, int] = {}


def _numbered(name: str) -> str:
    """`name` with the call's number, for functions whose successive calls are different steps."""
    with _LOCK:
        _CALLS[name] = _CALLS.get(name, 0) + 1
        return f"{name} #{_CALLS[name]}"


class ProbeError(RuntimeError):
    pass


INSTALLED: list[str] = []  # the names of the probes in place, as PROBES names them after their first call


def _wrap(owner, attribute: str, name: str, numbered: bool = False) -> None:
    original = getattr(owner, attribute)
    INSTALLED.append(f"{name} #1" if numbered else name)
    if numbered:
        @functools.wraps(original)
        def wrapper(*args, **kwargs):
            label = _numbered(name)
            start = _now()
            try:
                return original(*args, **kwargs)
            finally:
                _record(label, start, _now())
        setattr(owner, attribute, wrapper)
        return
    if inspect.isgeneratorfunction(original):
        @functools.wraps(original)
        def wrapper(*args, **kwargs):
            generator = original(*args, **kwargs)
            first = True
            while True:
                start = _now()
                try:
                    value = next(generator)
                except StopIteration:
                    _record(name, start, _now(), count=first)
                    return
                _record(name, start, _now(), count=first)
                first = False
                yield value
    else:
        @functools.wraps(original)
        def wrapper(*args, **kwargs):
            start = _now()
            try:
                return original(*args, **kwargs)
            finally:
                _record(name, start, _now())
    setattr(owner, attribute, wrapper)


def targets() -> list[tuple]:
    """(owner, attribute, probe name[, numbered]): what the pipeline calls, where it really runs."""
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner

    from movie_enrichment.io import checkpoints, database, review
    from movie_enrichment.io.database import parse, read
    from movie_enrichment.io.sink import optimistic, write
    from movie_enrichment.pipelines import config, launch, report
    from movie_enrichment.transforms import enrich, enrichers, selection

    return [
        (config, "resolve", "options: parse and check"),
        (launch, "_run_locked", "run (after options)"),
        (launch, "build_pipeline", "graph: build"),
        (FnApiRunner, "run_pipeline", "runner: run_pipeline (whole execution)"),
        (parse, "read_bytes", "read: file bytes"),
        (parse, "parse_snapshot", "parse: parse_snapshot", True),
        (read._ReadDatabaseFn, "process", "read: DoFn (read + parse + emit records)"),
        (selection.SelectMoviesFn, "process", "select: SelectMoviesFn (per record)"),
        (enrich.LookupTmdbFn, "process", "lookup: LookupTmdbFn (per batch, HTTP)"),
        # Plain classes that one DoFn (EnrichPartsFn) calls; results saved before issue 22 name these probes
        # "metadata: EnrichMetadataFn" and "images: EnrichImagesFn" (bench/report.py reads both).
        (enrichers.MetadataEnricher, "enrich", "metadata: MetadataEnricher"),
        (enrichers.ImagesEnricher, "enrich", "images: ImagesEnricher"),
        (enrich, "merge_parts", "merge: merge_parts"),
        (write._WriteDatabaseFn, "process", "sink: _WriteDatabaseFn (whole)"),
        (database, "serialize_chunks", "sink: serialize"),
        (optimistic, "backup", "sink: backup of the version replaced"),
        (optimistic, "_replace", "sink: swap or rename the new file in"),
        (review._WriteReviewFn, "process", "review: write the list (after the database)"),
        (checkpoints.CheckpointStore, "write_batch", "checkpoints: write_batch"),
        (checkpoints.CheckpointStore, "clear", "checkpoints: clear"),
        (report, "write_report", "report: write"),
    ]


def install() -> None:
    """Wraps every target; a target that is gone (renamed, moved) is an error, not a step left untimed."""
    wanted = targets()
    missing = [f"{getattr(owner, '__name__', owner)}.{attribute}" for owner, attribute, *_ in wanted
               if not callable(getattr(owner, attribute, None))]
    if missing:
        raise ProbeError(f"bench.probe: no such function to time: {', '.join(missing)}; "
                         "point the probe at what the pipeline calls now")
    for owner, attribute, name, *numbered in wanted:
        _wrap(owner, attribute, name, *numbered)


def never_fired() -> list[str]:
    """The installed probes that no call went through."""
    with _LOCK:
        return [name for name in INSTALLED if name not in PROBES]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    out, rest = argv[0], argv[argv.index("--") + 1:]
    imports_start = _now()
    from movie_enrichment.pipelines import cli
    _record("start-up: imports (movie_enrichment, apache_beam)", imports_start, _now())
    install()
    status = 1
    silent: list[str] = []
    try:
        status = cli.main(rest)
        silent = never_fired() if status == 0 else []
        if silent:
            print(f"bench.probe: these probes never fired, the pipeline no longer calls them: {', '.join(silent)}; "
                  "point them at what it calls now", file=sys.stderr)
            status = 1
    finally:
        end = _now()
        with open(out, "w") as handle:
            json.dump({"interpreter_start": 0.0, "probe_start": _BORN, "end": end, "status": status,
                       "probes": PROBES, "never_fired": silent}, handle, indent=1)
    return status


if __name__ == "__main__":
    # Through the imported module, not this __main__ copy: the runner pickles a plain function handed to a
    # transform (merge_parts to MapTuple), and cloudpickle copies what __main__ defines (PROBES among it) where
    # it only names what an importable module does, so the copy's calls would be timed into a lost dict.
    from bench import probe as _importable

    sys.exit(_importable.main())
