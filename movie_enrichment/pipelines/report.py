"""What the person who launched a run sees: live progress on stderr, a closing table and a JSON report."""

import dataclasses
import datetime
import threading
import time
from typing import Any, TextIO

import orjson

from movie_enrichment.io import progress

STATUSES = ("ok", "not_found", "ambiguous", "failed", "invalid")


def _duration(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60}:{seconds % 60:02d}"


class ProgressDisplay:
    """A live bar (tqdm) on a terminal, or a plain line every few seconds in logs and CI.

    Args:
        mode: auto, bar, lines or off.
        interval: seconds between plain lines.
        stream: where to write (standard error).
        spill_dir: the folder where worker processes leave their counts.
    """

    def __init__(self, mode: str, interval: float, stream: TextIO, spill_dir: str | None):
        if mode == "auto":
            mode = "bar" if getattr(stream, "isatty", lambda: False)() else "lines"
        self._mode = mode
        self._interval = interval
        self._stream = stream
        self._spill_dir = spill_dir
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = time.monotonic()

    def __enter__(self) -> "ProgressDisplay":
        if self._mode != "off":
            self._thread = threading.Thread(target=self._loop, name="progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def line(self, counts: dict[str, int]) -> str:
        elapsed = time.monotonic() - self._started
        selected, done = counts["selected"], counts["done"]
        percent = 100.0 * done / selected if selected else 0.0
        rate = counts["requests"] / elapsed if elapsed > 0 else 0.0
        movies_rate = done / elapsed if elapsed > 0 else 0.0
        eta = _duration((selected - done) / movies_rate) if movies_rate > 0 and done < selected else "-"
        return (f"movies {done}/{selected} ({percent:.0f}%), {rate:.1f} req/s, 429s {counts['throttled']}, "
                f"retries {counts['retries']}, failures {counts['failed']}, cache hits {counts['cache_hits']}, "
                f"elapsed {_duration(elapsed)}, ETA {eta}")

    def _loop(self) -> None:
        if self._mode == "bar":
            self._bar_loop()
            return
        while not self._stop.wait(self._interval):
            self._stream.write(f"progress: {self.line(progress.totals(self._spill_dir))}\n")
            self._stream.flush()

    def _bar_loop(self) -> None:
        from tqdm import tqdm  # a well-kept progress bar: rate, ETA and terminal width handled for us
        with tqdm(total=0, unit="movie", file=self._stream, dynamic_ncols=True, leave=True) as bar:
            while True:
                stopping = self._stop.wait(0.5)
                counts = progress.totals(self._spill_dir)
                bar.total = counts["selected"]
                bar.n = counts["done"]
                bar.set_postfix_str(f"req {counts['requests']}, 429 {counts['throttled']}, "
                                    f"retry {counts['retries']}, fail {counts['failed']}, "
                                    f"cache {counts['cache_hits']}", refresh=False)
                bar.refresh()
                if stopping:
                    return


@dataclasses.dataclass
class RunSummary:
    """The figures of one run, printed as a table and written as JSON."""

    output: str
    backup: str | None
    failures: str | None
    report: str | None
    counters: dict[str, int]
    elapsed: float
    enrichers: tuple[str, ...]
    started_at: str = ""

    def as_dict(self) -> dict[str, Any]:
        c = self.counters
        looked_up = sum(c.get(f"lookup_{s}", 0) for s in STATUSES)
        return {
            "started_at": self.started_at,
            "elapsed_seconds": round(self.elapsed, 3),
            "output": self.output, "backup": self.backup, "failures_file": self.failures, "report": self.report,
            "enrichers": {e: {s: c.get(f"{e}_{s}", 0) for s in STATUSES} for e in self.enrichers},
            "movies_looked_up": looked_up,
            "movies_resumed_from_checkpoints": c.get("resumed", 0),
            "requests": c.get("requests", 0),
            "requests_per_movie": round(c.get("requests", 0) / looked_up, 3) if looked_up else None,
            "retries": c.get("retries", 0),
            "throttled_429": c.get("throttled", 0),
            "request_errors": c.get("request_errors", 0),
            "cache_hits": c.get("cache_hits", 0),
            "requests_per_second": round(c.get("requests", 0) / self.elapsed, 2) if self.elapsed else None,
            "movies_per_second": round(looked_up / self.elapsed, 2) if self.elapsed else None,
        }

    def table(self) -> str:
        d = self.as_dict()
        rows = [f"{'enricher':<10}" + "".join(f"{s:>11}" for s in STATUSES)]
        for enricher, counts in d["enrichers"].items():
            rows.append(f"{enricher:<10}" + "".join(f"{counts[s]:>11}" for s in STATUSES))
        per_movie = f" ({d['requests_per_movie']:.2f} per movie looked up)" if d["requests_per_movie"] else ""
        rows += [
            f"movies looked up {d['movies_looked_up']}, resumed from checkpoints "
            f"{d['movies_resumed_from_checkpoints']}",
            f"requests {d['requests']}{per_movie}, retries {d['retries']}, 429s {d['throttled_429']}, "
            f"cache hits {d['cache_hits']}",
            f"elapsed {self.elapsed:.1f} s, {d['requests_per_second'] or 0:.1f} requests/s, "
            f"{d['movies_per_second'] or 0:.1f} movies/s",
            f"output   {self.output}",
            f"backup   {self.backup or '(none: there was no previous output)'}",
        ]
        if self.failures:
            rows.append(f"failures {self.failures}")
        if self.report:
            rows.append(f"report   {self.report}")
        return "\n".join(rows)


def write_report(path: str, summary: RunSummary) -> None:
    from movie_enrichment.io.sink import atomic_write
    atomic_write(path, orjson.dumps(summary.as_dict(), option=orjson.OPT_INDENT_2) + b"\n")


def now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")

