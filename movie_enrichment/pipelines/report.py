"""What the person who launched a run sees: live progress on stderr, a closing table and a JSON report."""

import contextlib
import dataclasses
import math
import os
import threading
import time
from typing import Any, Callable, TextIO

import orjson

from movie_enrichment.io import database, progress
from movie_enrichment.io.tmdb import redact
from movie_enrichment.model import INVALID, STATUSES

STATUS_INTERVAL = 1.0  # seconds between rewrites of the progress file


# The report's images_failed counts images (download's images_download_failed); the counter images_failed counts
# the movies whose images outcome failed (the table's), so a run without --download_images has no image figures.
_COUNTER_OF = {"images_failed": "images_download_failed"}
IMAGE_FIGURES = ("images_downloaded", "images_skipped", "images_failed", "images_over_cap", "images_bytes",
                 "images_pruned", "images_pruned_bytes")


def plural(count: int, word: str, many: str | None = None) -> str:
    """`1 movie`, `2 movies`, `0 movies`: the count with its noun agreeing."""
    return f"{count} {word if count == 1 else many or word + 's'}"


def about(seconds: float) -> str:
    """A duration as a person says it: `under a minute`, `about 3 minutes`, `about 1.5 hours`."""
    if seconds < 60:
        return "under a minute"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"about {plural(minutes, 'minute')}"
    return f"about {seconds / 3600:.1f} hours"


def shown(path: str | None) -> str | None:
    """A path as the user should see it: absolute when it is a local file, as given otherwise."""
    if not path or "://" in path or ":" in path.split("/")[0]:
        return path
    return os.path.abspath(path)


def _duration(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60}:{seconds % 60:02d}"


class ProgressDisplay:
    """A live bar (tqdm) on a terminal, or a plain line every few seconds in logs and CI; and the same figures
    in the run's progress file, rewritten every second (or every `interval` if shorter).

    Args:
        mode: auto, bar, lines or off.
        interval: seconds between plain lines.
        stream: where to write (standard error).
        source: gives the run's counts (`progress.FIELDS` and `progress.MARKS`) when called.
        status: the progress file, or None.
    """

    def __init__(self, mode: str, interval: float, stream: TextIO, source: Callable[[], dict[str, int]],
                 status: progress.StatusFile | None = None):
        if mode == "auto":
            mode = "bar" if getattr(stream, "isatty", lambda: False)() else "lines"
        self._mode = mode
        self._interval = interval
        self._stream = stream
        self._source = source
        self._status = status
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = time.monotonic()

    def __enter__(self) -> "ProgressDisplay":
        self._started = time.monotonic()
        if self._status is not None:
            self._status.update(phase="reading")
        if self._mode != "off" or self._status is not None:
            self._thread = threading.Thread(target=self._loop, name="progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def figures(self, counts: dict[str, int]) -> dict[str, Any]:
        return figures(counts, time.monotonic() - self._started)

    def line(self, counts: dict[str, int]) -> str:
        f = self.figures(counts)
        eta = "-" if f["eta_seconds"] is None else _duration(f["eta_seconds"])
        down = "TMDB not answering, requests wait (--tmdb_down_after); " if f["tmdb_unreachable"] else ""
        return (f"{down}movies {f['movies_done']}/{f['movies_selected']} ({shown_percent(f['percent'])}%), "
                f"{f['requests_per_second']:.1f} req/s, 429s {f['throttled_429']}, retries {f['retries']}, "
                f"failures {f['movies_failed']}, cache hits {f['cache_hits']}, " + _images_part(f)
                + f"elapsed {_duration(f['elapsed_seconds'])}, ETA {eta}")

    def _loop(self) -> None:
        bar = None
        if self._mode == "bar":
            from tqdm import tqdm  # a well-kept progress bar: rate, ETA and terminal width handled for us
            # tqdm's own percentage rounds (99.5% shows 100%): ours, rounded down, goes where tqdm puts its own.
            bar = tqdm(total=0, unit="movie", file=self._stream, dynamic_ncols=True, leave=True,
                       bar_format="{desc}%|{bar}{r_bar}", desc="  0")
        tick = 0.5 if bar is not None else min(STATUS_INTERVAL, self._interval)
        next_line = time.monotonic() + self._interval
        try:
            while True:
                stopping = self._stop.wait(tick)
                counts = self._source()
                if self._status is not None:
                    self._status.update(**self.figures(counts))
                if bar is not None:
                    bar.total = counts["selected"]
                    bar.n = counts["done"]
                    bar.set_description_str(f"{shown_percent(percent_done(bar.n, bar.total)):>3}", refresh=False)
                    bar.set_postfix_str(f"req {counts['requests']}, 429 {counts['throttled']}, "
                                        f"retry {counts['retries']}, fail {counts['failed']}, "
                                        f"cache {counts['cache_hits']}"
                                        + (", TMDB not answering" if counts.get("unreachable", 0) > 0 else "")
                                        + (f", images {counts['images_downloaded']}+{counts['images_skipped']}, "
                                           f"fail {counts['images_failed']}"
                                           if any(counts.get(n, 0) for n in progress.IMAGE_FIELDS) else ""),
                                        refresh=False)
                    bar.refresh()
                elif self._mode == "lines" and not stopping and time.monotonic() >= next_line:
                    next_line += self._interval
                    self._stream.write(f"progress: {self.line(counts)}\n")
                    self._stream.flush()
                if stopping:
                    return
        finally:
            if bar is not None:
                bar.close()


def percent_done(done: int, selected: int) -> float:
    """The share of the selected movies done, in percent to one decimal, rounded down: 3,186 of 3,201 is 99.5,
    never 100.0 until every movie is done."""
    return (1000 * done // selected) / 10 if selected else 0.0


def shown_percent(percent: float) -> str:
    """The percentage as the progress line shows it: whole and rounded down, with one decimal between 99 and
    100, where the whole number would sit at 99 for the last hundredth of a long run."""
    return f"{percent:.1f}" if 99 <= percent < 100 else f"{math.floor(percent)}"


def _images_part(f: dict[str, Any]) -> str:
    """--download_images' part of the progress line; nothing before its first image (or without it)."""
    if "images_downloaded" not in f:
        return ""
    return (f"images {f['images_downloaded']} stored ({f['images_bytes'] / 1e6:.1f} MB), "
            f"{f['images_skipped']} already there, {f['images_failed']} failed, ")


def figures(counts: dict[str, int], elapsed: float) -> dict[str, Any]:
    """The live figures, as the progress line shows them and the progress file holds them; --download_images'
    (images_downloaded, _skipped, _failed, _bytes) once it has handled an image, so that a run without it shows
    and writes what it did before."""
    selected, done = counts["selected"], counts["done"]
    movies_rate = done / elapsed if elapsed > 0 else 0.0
    eta = (selected - done) / movies_rate if movies_rate > 0 and done < selected else None
    phase = "writing" if counts["writing"] else "enriching" if counts["enriching"] else "reading"
    return {"phase": phase, "movies_selected": selected, "movies_done": done, "movies_failed": counts["failed"],
            "percent": percent_done(done, selected),
            "requests": counts["requests"],
            "requests_per_second": round(counts["requests"] / elapsed, 2) if elapsed > 0 else 0.0,
            "throttled_429": counts["throttled"], "retries": counts["retries"], "cache_hits": counts["cache_hits"],
            "elapsed_seconds": round(elapsed, 1), "eta_seconds": None if eta is None else round(eta, 1),
            "tmdb_unreachable": counts.get("unreachable", 0) > 0,
            **({name: counts.get(name, 0) for name in progress.IMAGE_FIELDS}
               if any(counts.get(name, 0) for name in progress.IMAGE_FIELDS) else {})}


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
    run_id: str | None = None
    review: str | None = None  # the review list, when movies are left to review
    exit_status: int = 0  # 0, or 4/5 when movies failed (errors.exit_status_for)
    # Keys the input held more than once (the first 20, in the file's order) with how often: the last record
    # of each was kept, the earlier ones are in the backup. Their number is counters["duplicate_keys"].
    duplicate_keys: list[tuple[str, int]] = dataclasses.field(default_factory=list)
    # The --titles entries and --pins keys that match no movie, in one line, when some do not; and how many.
    titles_warning: str | None = None
    titles_unmatched: int = 0
    pins_unmatched: int = 0
    input: str | None = None
    # How the records of an array or JSON Lines file are named (`naming.Naming.describe`), and the warning of
    # `--key_field` for the records that keep their position; None for a keyed file or a database.
    records_named_by: str | None = None
    naming_warning: str | None = None
    # The version this run replaced was byte-identical to the newest backup, so `backup` is that earlier file.
    backup_reused: bool = False
    # What changed identity (issue 25), by the records' names: films found again under a new id
    # ({"key", "from", "to"}), films TMDB removed (keys), records matched to one film ({"tmdb_id", "keys"}).
    reidentified: list[dict] = dataclasses.field(default_factory=list)
    removed: list[str] = dataclasses.field(default_factory=list)
    shared_matches: list[dict] = dataclasses.field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        """The result equalled the database: nothing was written (no new file, no backup, no rotation)."""
        return bool(self.counters.get("database_unchanged"))

    @property
    def movies_failed(self) -> int:
        """The movies of this run that some enricher failed to enrich (the most failed of any enricher)."""
        return max((self.counters.get(f"{e}_failed", 0) for e in self.enrichers), default=0)

    @property
    def movies_attempted(self) -> int:
        """The movies of this run that were looked up, also those read back from checkpoints, but not the
        invalid ones, which make no request: what a failure count is compared with (`--max_failures 5%`, and
        "every lookup failed")."""
        return max((sum(self.counters.get(f"{e}_{s}", 0) for s in STATUSES if s != INVALID)
                    for e in self.enrichers), default=0)

    def as_dict(self) -> dict[str, Any]:
        c = self.counters
        looked_up = sum(c.get(f"lookup_{s}", 0) for s in STATUSES)
        return {
            "run_id": self.run_id,
            "started_at": self.started_at,
            "elapsed_seconds": round(self.elapsed, 3),
            "output": self.output, "backup": self.backup,
            "backup_reused": self.backup_reused, "failures_file": self.failures, "report": self.report,
            "review_file": self.review,
            "enrichers": {e: {s: c.get(f"{e}_{s}", 0) for s in STATUSES} for e in self.enrichers},
            "movies_looked_up": looked_up,
            "movies_failed": self.movies_failed,
            "titles_unmatched": self.titles_unmatched, "pins_unmatched": self.pins_unmatched,
            "records_named_by": self.records_named_by,
            "reidentified": self.reidentified, "removed": self.removed, "shared_matches": self.shared_matches,
            "database_unchanged": self.unchanged,
            "exit_status": self.exit_status,
            "movies_resumed_from_checkpoints": c.get("resumed", 0),
            "requests": c.get("requests", 0),
            "requests_per_movie": round(c.get("requests", 0) / looked_up, 3) if looked_up else None,
            "retries": c.get("retries", 0),
            "throttled_429": c.get("throttled", 0),
            "request_errors": c.get("request_errors", 0),
            "cache_hits": c.get("cache_hits", 0),
            "requests_per_second": round(c.get("requests", 0) / self.elapsed, 2) if self.elapsed else None,
            "movies_per_second": round(looked_up / self.elapsed, 2) if self.elapsed else None,
            # --download_images: images stored, already there, failed, over --images_max_gb, bytes; pruned.
            **({name: c.get(_COUNTER_OF.get(name, name), 0) for name in IMAGE_FIGURES}
               if any(_COUNTER_OF.get(name, name) in c for name in IMAGE_FIGURES) else {}),
            # A database store's reads and writes: the rows the selection read, the rows changed.
            **{name: c[name] for name in ("rows_read", "rows_written", "write_transactions") if name in c},
            "duplicate_keys": {"count": c.get(database.DUPLICATE_KEYS_METRIC, 0),
                               "keys": [{"key": key, "times": times} for key, times in self.duplicate_keys],
                               "kept": "the last record of each", "earlier_records_in": self._earlier_records()},
            # Another program saved the database during the run: how this run's results went onto its version.
            "other_writers": {"saves_merged": c.get("commit_changes", 0),
                              "results_merged": c.get("commit_merged", 0),
                              "results_dropped_record_deleted": c.get("commit_dropped", 0),
                              "results_skipped_match_inputs_changed": c.get("commit_skipped", 0)},
        }

    def _earlier_records(self) -> str | None:
        """Where the records a duplicate key dropped are: the backup of the input, or the input itself."""
        if not self.counters.get(database.DUPLICATE_KEYS_METRIC):
            return None
        return self.input if self.input and self.input != self.output else self.backup

    def images_cap_warning(self) -> str | None:
        """One line for standard error when `--images_max_gb` stopped downloads; None otherwise."""
        over = self.counters.get("images_over_cap", 0)
        if not over:
            return None
        return (f"warning: {plural(over, 'image')} not downloaded: the images folder reached the --images_max_gb "
                "cap; those records keep their links only (raise the cap, or --prune_images, and run again)")

    def duplicates_warning(self) -> str | None:
        """One line for standard error when the input held a key more than once; None otherwise."""
        count = self.counters.get(database.DUPLICATE_KEYS_METRIC, 0)
        if not count:
            return None
        where = self._earlier_records()
        return (f"warning: the input holds {count} key{'s' if count > 1 else ''} more than once "
                f"({database.describe_duplicates(self.duplicate_keys)}): the last record of each was kept; "
                f"the earlier ones are in {where or 'no file (no backup was written)'}")

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
        ]
        if "images_downloaded" in d:
            rows.append(f"images downloaded {d['images_downloaded']} ({d['images_bytes'] / 1e6:.1f} MB), already "
                        f"there {d['images_skipped']}, failed {d['images_failed']}, over the cap "
                        f"{d['images_over_cap']}" + (f", pruned {d['images_pruned']}" if d["images_pruned"] else ""))
        others = d["other_writers"]
        if others["saves_merged"]:
            rows.append(f"another program saved the database during the run: {others['results_merged']} results "
                        f"merged onto its version, {others['results_dropped_record_deleted']} dropped (record "
                        f"deleted), {others['results_skipped_match_inputs_changed']} skipped (match inputs "
                        "changed; selected again next run)")
        rows += [
            f"output   {self.output}" + (" (unchanged: the result equals it, so nothing was written)"
                                          if self.unchanged else ""),
            f"backup   {self.backup or _no_backup(self.unchanged)}"
            + (" (already kept: the version this run replaced equals it)" if self.backup_reused else ""),
        ]
        if d["duplicate_keys"]["count"]:
            rows.append(f"duplicate keys {d['duplicate_keys']['count']} (the last record of each kept; the earlier "
                        f"ones are in {d['duplicate_keys']['earlier_records_in']})")
        if self.failures:
            rows.append(f"failures {self.failures}")
        rows += self._identity_rows()
        if self.review:
            what = ", ".join(["ambiguous and not found movies"] + ["films TMDB removed"] * bool(self.removed)
                             + ["records matched to one film"] * bool(self.shared_matches))
            rows.append(f"review   {self.review} ({what}, with candidates to pin)")
        if self.report:
            rows.append(f"report   {self.report}")
        return "\n".join(rows)


    def _identity_rows(self) -> list[str]:
        """The summary's lines of what changed identity, each only when there is something to say."""
        rows = []
        if self.reidentified:
            rows.append(f"found again under a new TMDB id {len(self.reidentified)}: " + ", ".join(
                f"{entry['key']} ({entry['from']} -> {entry['to']})" for entry in self.reidentified[:5])
                + (", ..." if len(self.reidentified) > 5 else ""))
        if self.removed:
            rows.append(f"removed from TMDB {len(self.removed)} (their data kept; in the review list): "
                        + ", ".join(self.removed[:5]) + (", ..." if len(self.removed) > 5 else ""))
        if self.shared_matches:
            rows.append(f"records matched to one film {len(self.shared_matches)} (merge or pin them; in the review "
                        "list): " + "; ".join(f"{group['tmdb_id']}: {', '.join(group['keys'])}"
                                              for group in self.shared_matches[:3])
                        + ("; ..." if len(self.shared_matches) > 3 else ""))
        return rows


def _no_backup(unchanged: bool) -> str:
    return "(none: nothing was written)" if unchanged else "(none: there was no previous output)"


def write_report(path: str, summary: RunSummary) -> None:
    from movie_enrichment.io.files import atomic_write
    atomic_write(path, orjson.dumps(summary.as_dict(), option=orjson.OPT_INDENT_2) + b"\n")





EXIT_INTERRUPTED = 130
RUN_ID_ENV = "MOVIE_ENRICH_RUN_ID"


@contextlib.contextmanager
def progress_file(path: str | None, secret: str, **fields):
    """Owns the progress file for one run (call it under the output's lock): `starting` at once, then the
    display's figures, and at the end the final phase with the exit status and the one-line error; for an error
    marked `input_refused` (a bad input file, nothing written), what the file held before.

    Yields the StatusFile, or None when there is no file to keep.
    """
    if not path:
        yield None
        return
    previous = progress.previous_content(path)
    status = progress.StatusFile(path, pid=os.getpid(), started_at=progress.now_iso(), **fields)
    status.update(**{**figures(dict.fromkeys(progress.FIELDS + progress.MARKS, 0), 0.0), "phase": "starting"})
    try:
        yield status
    except KeyboardInterrupt:
        status.update(phase="cancelled", exit_status=EXIT_INTERRUPTED, eta_seconds=None)
        raise
    except BaseException as error:
        if getattr(error, "input_refused", False):
            # A bad input file, refused before anything was written: the previous run's file is put back.
            status.withdraw(previous)
            raise
        line = redact(str(error).strip().splitlines()[0] if str(error).strip() else repr(error), secret)
        status.update(phase="failed", exit_status=getattr(error, "status", 1), error=line, eta_seconds=None)
        raise
    status.update(phase="done", exit_status=0, eta_seconds=None)
