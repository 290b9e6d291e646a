"""What the console knows and does: the runs it queued and launched (one at a time per database), their history,
the pins it keeps, and the small files the runs leave beside the database, each read again only when it changed.

Nothing here parses the database in the server's process: counts come from a child process (`counts.py`),
once per change of the file.
"""

import asyncio
import dataclasses
import os
import re
import sys
import time
from typing import Any

from movie_enrichment import api, model
from movie_enrichment.console import child
from movie_enrichment.console.identify import TmdbAsker
from movie_enrichment.console.review import ReviewIndex
from movie_enrichment.io import files, jsonlines, progress

# What a run submitted by a page or the API may choose: what to enrich, which movies, in which languages and
# countries, and how an array's records are named. Where requests go, with which key, how fast and where files
# are written (--download_images DIR among them) belong to `movie-enrich serve`'s own options. A list option
# (language, certification_countries, image_languages) comes as one comma-separated string.
RUN_OPTIONS = ("enrich", "reprocess", "stale_after", "titles", "language", "certification_countries",
               "image_languages", "poster_size", "backdrop_size", "key_field")
HISTORY_KEPT = 50
POLL_SECONDS = 0.25


class RunOptionError(ValueError):
    """A run's option the console refuses or the command line rejects; the message is one line."""


def check_run_options(options: Any) -> dict:
    """The options of a submitted run, or RunOptionError naming the first one that is not a run's to choose."""
    if not isinstance(options, dict):
        raise RunOptionError("a run is a JSON object of command-line options, e.g. {\"reprocess\": \"failed\"}")
    from movie_enrichment.pipelines import config as run_config
    known = {action.dest for action in run_config.parser()._actions}  # the command line's own parser
    checked = {}
    for name, value in options.items():
        name = str(name).lstrip("-")
        if name not in RUN_OPTIONS:
            if name in known or name == "dry_run":
                raise RunOptionError(f"--{name} is a setting of the server (movie-enrich serve), not of a run; "
                                     f"a run chooses {', '.join('--' + n for n in RUN_OPTIONS)}")
            raise RunOptionError(f"unknown option --{name}")
        if name == "titles":
            if isinstance(value, str):
                value = [line for line in value.splitlines() if line.strip()]
            if not isinstance(value, list) or not value or not all(isinstance(t, str) and t for t in value):
                raise RunOptionError("--titles takes a non-empty list of keys (or titles)")
        elif isinstance(value, (dict, list)) and name != "enrich":
            raise RunOptionError(f"--{name} takes one value, got {type(value).__name__}")
        if value in (None, "", False):
            continue
        checked[name] = value
    return checked


def option_dict(argv: list[str]) -> dict:
    """`--name value`, `--name=value` and bare `--flag` words as launch() keyword options."""
    options: dict[str, Any] = {}
    index = 0
    while index < len(argv):
        word = argv[index]
        if not word.startswith("--"):
            raise RunOptionError(f"unexpected argument {word!r}")
        name, equals, value = word[2:].partition("=")
        if equals:
            options[name] = value
        elif index + 1 < len(argv) and not argv[index + 1].startswith("--"):
            options[name] = argv[index + 1]
            index += 1
        else:
            options[name] = True
        index += 1
    return options


def pins_supported() -> bool:
    """Whether the command line takes `--pins` (the console's pins file is given to every run through it)."""
    from movie_enrichment.pipelines import config as run_config
    return any(action.dest == "pins" for action in run_config.parser()._actions)


@dataclasses.dataclass
class Entry:
    """A run submitted to the console: queued until it is launched, then followed through its handle."""

    id: str
    options: dict
    submitted_at: str
    run: api.Run | None = None
    state: str = "queued"  # until launched; then the handle's state
    error: str | None = None
    ended_at: str | None = None
    summary: dict | None = None
    cancel_asked: bool = False  # while it is being launched

    def current_state(self) -> str:
        if self.run is not None and self.summary is None:
            return self.run.state
        return self.state

    def to_dict(self) -> dict:
        if self.summary is not None:
            return self.summary
        data = {"id": self.id, "options": self.options, "submitted_at": self.submitted_at,
                "state": self.current_state(), "error": self.error, "ended_at": self.ended_at,
                "run_id": None, "progress": None, "report": None}
        if self.run is not None:
            run = self.run.to_dict()
            data.update(run_id=run["id"], started_at=run["started_at"], ended_at=run["ended_at"],
                        returncode=run["returncode"], error=run["error"], progress=run["progress"],
                        report=run["report"], state=run["state"])
        return data


class FileCache:
    """A small file read again only when its modification time or size changed."""

    def __init__(self, path: str, parse):
        self.path = path
        self._parse = parse
        self._stamp: Any = self  # never a stamp: the first get() reads
        self._value: Any = None

    def stamp(self) -> tuple | None:
        try:
            info = os.stat(self.path)
        except OSError:
            return None
        return (info.st_mtime_ns, info.st_size)

    def get(self) -> Any:
        stamp = self.stamp()
        if stamp != self._stamp:
            self._value = self._parse(self.path) if stamp is not None else self._parse(None)
            self._stamp = stamp
        return self._value


_PIN_ID = re.compile(r"^(?:(\d{1,10})|(tt\d{5,10}))$")


def _pin(value: str) -> str | None:
    """A TMDB id (98) or an IMDb id (tt0172495) as the pin the command line's `--pins` lines give."""
    found = _PIN_ID.match(value.strip())
    if not found or found.group(1) == "0":
        return None
    return f"tmdb:{int(found.group(1))}" if found.group(1) else f"imdb:{found.group(2)}"


def _pins(path: str | None) -> dict[str, str]:
    """The console's pins file (`KEY,ID` lines after a `key,tmdb_id` header; the id after the last comma)."""
    if path is None:
        return {}
    pins = {}
    with open(path, encoding="utf-8") as handle:
        for line in list(handle)[1:]:
            key, _, value = line.rstrip("\n").rpartition(",")
            if key and _pin(value):
                pins[key] = _pin(value)
    return pins


class Console:
    """One database, the settings of every run launched on it, and its runs (one at a time, the next queued).

    Args:
        database: the movie database (enriched in place).
        settings: `movie-enrich serve`'s pipeline options as launch() keywords (the TMDB root, the rate, ...).
        tmdb_api_key: the key every run gets through its environment; it is never shown or returned.
        key_file: else the file holding the key, which each run reads (its path is not shown either).
    """

    def __init__(self, database: str, settings: dict, tmdb_api_key: str | None, key_file: str | None = None):
        self.database = os.path.abspath(database)
        self.settings = dict(settings)
        self._key = tmdb_api_key
        self._key_file = key_file
        self.entries: dict[str, Entry] = {}
        self.queue: list[str] = []
        self.current: str | None = None
        self.external: api.Run | None = None  # a run started elsewhere (the command line) on this database
        self.history_file = self.database + ".runs.jsonl"
        self.pins_file = self.database + ".pins.csv"
        self._review = FileCache(self.database + ".review.jsonl", ReviewIndex)
        self._failures = FileCache(self.database + ".failures.jsonl", jsonlines.read)
        self._history = FileCache(self.history_file, jsonlines.read)
        self._pins = FileCache(self.pins_file, _pins)
        self._counts: dict | None = None
        self._counts_stamp: tuple | None = None
        self._counts_lock = asyncio.Lock()
        self._recount: asyncio.Task | None = None
        self._task: asyncio.Task | None = None
        self._wake = asyncio.Event()
        self.tmdb = TmdbAsker(self.tmdb_settings)  # the identify box's searches and the posters' image host

    # -- files ---------------------------------------------------------------------------------------------
    def review(self) -> ReviewIndex:
        """The review list's index, made again when the file changed: its length, keys, counts and pages."""
        return self._review.get()

    def failures(self) -> list[dict]:
        return self._failures.get()

    def pins(self) -> dict[str, str]:
        return self._pins.get()

    def history(self) -> list[dict]:
        """The runs this console launched, newest first (the last 50), with their reports."""
        return list(reversed(self._history.get()))[:HISTORY_KEPT]

    async def counts(self) -> dict:
        """Movies by status for each enricher, counted by a child process once per change of the database.

        Only the first call waits for the count; after a change, the previous counts are answered (marked
        `"stale": true`) while the new count is made in the background."""
        stamp = FileCache(self.database, None).stamp()
        if self._counts is not None and stamp != self._counts_stamp:
            if self._recount is None or self._recount.done():
                self._recount = asyncio.create_task(self._count())
            return {**self._counts, "stale": True}
        if self._counts is None:
            await self._count()
        return self._counts

    async def _count(self) -> None:
        async with self._counts_lock:
            stamp = FileCache(self.database, None).stamp()
            if self._counts is not None and stamp == self._counts_stamp:
                return
            started = time.monotonic()
            counts, status = await child.answer("movie_enrichment.console.counts", self.database)
            if counts is None:
                counts = {"error": f"counting the database failed (exit status {status})"}
            counts.update(database=self.database, counted_in_seconds=round(time.monotonic() - started, 3))
            self._counts, self._counts_stamp = counts, stamp

    def add_pin(self, key: Any, tmdb_id: Any) -> dict[str, str]:
        """Pins a movie (its key in the database) to a TMDB id or an IMDb id; the next run matches it so."""
        if not isinstance(key, str) or not key.strip() or "\n" in key or "\r" in key:
            raise RunOptionError("a pin needs \"key\": the movie's key in the database (one line of text)")
        text = str(tmdb_id).strip() if isinstance(tmdb_id, (int, str)) and not isinstance(tmdb_id, bool) else ""
        if _pin(text) is None:
            raise RunOptionError(f"a pin needs \"tmdb_id\": a TMDB id (98) or an IMDb id (tt0172495), got {tmdb_id!r}")
        lines = {k: v.partition(":")[2] for k, v in self.pins().items()}
        lines[key] = text
        body = "key,tmdb_id\n" + "".join(f"{k},{v}\n" for k, v in lines.items())
        files.atomic_write(self.pins_file, body.encode("utf-8"), mime_type="text/csv")
        return self.pins()

    # -- runs ----------------------------------------------------------------------------------------------
    async def submit(self, options: Any) -> Entry:
        """Queues a run after the command line's own checks (in a thread: they import Apache Beam the first
        time); RunOptionError with the command line's one line if it would not start."""
        checked = check_run_options(options)
        try:
            await asyncio.to_thread(self.check, checked)
        except api.OptionError as error:
            raise RunOptionError(str(error)) from None
        # The run's own id from the start (its report, progress file and history carry it): one id everywhere.
        entry = Entry(id=model.new_run_id(), options=checked, submitted_at=progress.now_iso())
        self.entries[entry.id] = entry
        self.queue.append(entry.id)
        self._wake.set()
        return entry

    def _launch_options(self, options: dict) -> dict:
        merged = {**self.settings, **options}
        if self.pins() and pins_supported():
            merged["pins"] = self.pins_file
        return merged

    def check(self, options: dict) -> None:
        """The command line's checks of a run with these options (and the server's settings), without starting
        anything; api.OptionError with its one line."""
        api.check_options(self.database, tmdb_api_key=self._key, tmdb_api_key_file=self._key_file,
                          **self._launch_options(options))

    def tmdb_settings(self):
        """The TMDB settings of this console's runs (their key, API root, rate and HTTP cache), for what the
        console asks TMDB itself; api.OptionError when there are none (no key, say), without the key file's path,
        which the console shows nowhere."""
        try:
            return api.tmdb_settings(self.database, tmdb_api_key=self._key, tmdb_api_key_file=self._key_file,
                                     **self.settings)
        except api.OptionError as error:
            message = str(error).replace(self._key_file, "(the key file)") if self._key_file else str(error)
            raise api.OptionError(message, error.status) from None

    def cancel(self, entry_id: str) -> bool:
        entry = self.entries[entry_id]
        if entry.run is None:
            if entry.state != "queued":
                return False
            if entry_id not in self.queue:  # being launched: cancelled as soon as it has started
                entry.cancel_asked = True
                return True
            self.queue.remove(entry_id)
            entry.state, entry.ended_at = "cancelled", progress.now_iso()
            self._record(entry)
            return True
        return entry.run.cancel()

    def runs(self) -> list[dict]:
        """The running and queued runs, then this session's ended ones, newest first."""
        return [self.entries[i].to_dict() for i in reversed(list(self.entries))]

    def active(self) -> Entry | None:
        return self.entries.get(self.current) if self.current else None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        await asyncio.to_thread(self.tmdb.close)  # its HTTP cache is flushed

    async def _loop(self) -> None:
        """Launches the next queued run once the database is free; records each run when it ends."""
        while True:
            try:
                await self._step()
            except Exception as error:  # pylint: disable=broad-except - the loop must outlive one bad step
                print(f"movie-enrich serve: {type(error).__name__}: {error}", file=sys.stderr)
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
            except asyncio.TimeoutError:
                pass

    async def _step(self) -> None:
        entry = self.active()
        if entry is not None:
            if entry.run.state not in api.ENDED:
                return
            self._record(entry)
            self.current = None
        if not self.queue or self._busy_elsewhere():
            return
        entry = self.entries[self.queue.pop(0)]
        try:
            entry.run = await api.launch_async(self.database, tmdb_api_key=self._key,
                                               tmdb_api_key_file=self._key_file, run_id=entry.id,
                                               **self._launch_options(entry.options))
            self.current = entry.id
            if entry.cancel_asked:
                entry.run.cancel()
        except api.OptionError as error:
            entry.state, entry.error, entry.ended_at = "failed", str(error), progress.now_iso()
            self._record(entry)

    def _busy_elsewhere(self) -> bool:
        """Whether a run started elsewhere (the command line, another server) holds this database now."""
        try:
            run = api.attach(self.database)
        except (FileNotFoundError, ValueError, LookupError, KeyError):
            self.external = None
            return False
        self.external = run if run.state not in api.ENDED else None
        return self.external is not None

    def _record(self, entry: Entry) -> None:
        """Appends the ended run, with its report, to the history file, and freezes its summary."""
        summary = entry.to_dict()
        summary["ended_at"] = summary.get("ended_at") or progress.now_iso()
        entry.summary = summary
        entry.state = summary["state"]
        with open(self.history_file, "ab") as handle:
            handle.write(jsonlines.encode([summary]))
        lines = self._history.get()
        if len(lines) > 4 * HISTORY_KEPT:  # keep the file small: the last runs only
            jsonlines.write(self.history_file, lines[-HISTORY_KEPT:])

    def find(self, entry_id: str) -> dict | None:
        if entry_id in self.entries:
            return self.entries[entry_id].to_dict()
        for line in self.history():
            if line.get("id") == entry_id:
                return line
        return None
