"""Launch and watch enrichment runs from another program (an admin server, a script, a scheduler).

Each run is a child process running the command line itself (`python -m movie_enrichment ...`), so the
caller's process never does the work; its live figures come from the run's progress file, a small JSON file
that is cheap to read. `launch()` checks the options in this process first and raises `OptionError` with the
command line's own one-line message, without starting anything.

The public surface: `launch()` / `launch_async()` start a run and return its `Run` handle; `check_options()`
makes launch's checks alone (a server queueing runs checks them when they are submitted); `attach()` finds a
run again by its output or progress file; `OptionError`, `STATES` and `ENDED`. The rest (underscore names) is
this module's own: other modules, the console's included, use only the public names.
"""

import asyncio
import contextlib
import dataclasses
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Mapping

from movie_enrichment import model
from movie_enrichment.io import processes, progress

STATES = ("queued", "running", "succeeded", "failed", "cancelled")
ENDED = ("succeeded", "failed", "cancelled")
_ERROR_PREFIX = "movie-enrich: error: "
_INTERRUPTED = (130, 143, -signal.SIGINT, -signal.SIGTERM)
_COMPLETED = (0, 4, 5)  # 4 and 5: completed and written, with failed movies (see the report)
_LOG_TAIL = 64 * 1024
_LOG = "run.log"
RUN_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{6}")  # model.new_run_id()'s form
_FIGURES = ("movies_selected", "movies_done", "movies_failed", "percent", "requests", "requests_per_second",
            "throttled_429", "retries", "cache_hits", "elapsed_seconds", "eta_seconds", "tmdb_unreachable")


class OptionError(ValueError):
    """A bad option or input, found before any run starts. Its message is the command line's one line.

    Args:
        message: that line (without the `movie-enrich: error:` prefix).
        status: the exit status the command line would have given (2 for a bad option, 1 for a bad input).
    """

    def __init__(self, message: str, status: int = 2):
        super().__init__(message)
        self.status = status


# The options that take a comma-separated list, which launch() also takes as a list.
LIST_OPTIONS = ("enrich", "language", "certification_countries", "image_languages")


def _argv(input: str, options: Mapping[str, Any], scratch: str) -> list[str]:  # noqa: A002
    """Keyword options as command-line flags: `reprocess="failed"` -> `--reprocess failed`, True -> a bare
    flag, False or None -> left out, a list of `LIST_OPTIONS` comma-joined (`language=["de-DE", "en-US"]`),
    `titles=[...]` written to a file."""
    argv = ["--input", str(input)]
    for name, value in options.items():
        flag = f"--{name}"
        if value is None or value is False:
            continue
        if value is True:
            argv.append(flag)
            continue
        if name == "titles" and not isinstance(value, (str, os.PathLike)):
            titles = [str(t) for t in value]
            if any("\n" in t or "\r" in t for t in titles):
                raise OptionError("bad option: titles: an entry contains a line break")
            path = os.path.join(scratch, "titles.txt")
            with open(path, "w", encoding="utf-8") as handle:
                handle.write("".join(t + "\n" for t in titles))
            value = path
        elif name in LIST_OPTIONS and not isinstance(value, str):
            # image_languages=["de", None, "en"]: None is an image without text, as `null` on the command line
            value = ",".join("null" if item is None else str(item) for item in value)
        elif isinstance(value, (list, tuple, set, dict)):
            raise OptionError(f"bad option: {flag} takes one value, got {type(value).__name__}")
        argv += [flag, os.fspath(value) if isinstance(value, os.PathLike) else str(value)]
    return argv


def _checked(argv: list[str], key: str | None, key_file: str | None = None):
    """The command line's own checks, run here: the run's config, or OptionError with its one line."""
    from movie_enrichment.pipelines import config as run_config
    from movie_enrichment.pipelines.errors import FatalError
    given = ["--tmdb_api_key", key] if key else ["--tmdb_api_key_file", key_file] if key_file else []
    try:
        return run_config.check(argv + given)[1]
    except FatalError as error:
        raise OptionError(str(error), error.status) from None


def _key_source(key: str | None, key_file: str | os.PathLike | None, environ: Mapping[str, str]):
    """Where a run's key comes from (`keyfile.choose`), a key file's path made absolute; OptionError if both
    forms are given."""
    from movie_enrichment.io import keyfile
    try:
        source = keyfile.choose(key, os.fspath(key_file) if key_file else None, environ)
    except keyfile.KeyFileError as error:
        raise OptionError(str(error)) from None
    return dataclasses.replace(source, path=os.path.abspath(source.path)) if source.path else source


def launch(input: str, *, tmdb_api_key: str | None = None,  # noqa: A002
           tmdb_api_key_file: str | os.PathLike | None = None, env: Mapping[str, str] | None = None,
           run_id: str | None = None, **options: Any) -> "Run":
    """Starts an enrichment run in a child process and returns its handle at once.

    Args:
        input: the movie database (`--input`); relative paths are read from this process's working folder.
        tmdb_api_key: the key. It reaches the child through its environment, never its command line.
        tmdb_api_key_file: a file holding the key, readable by its owner only (as `--tmdb_api_key_file`); the
            child reads it itself (TMDB_API_KEY_FILE), so this process never holds the key. Without either,
            TMDB_API_KEY, else TMDB_API_KEY_FILE, from `env` or this process's environment.
        env: variables added to the child's environment.
        run_id: the run's id (`model.new_run_id()` form), for a caller that named the run before launching it,
            as the console does: its report, progress file and history then carry that one id. Default: a new one.
        **options: any command-line option by its name: `output="..."`, `enrich="metadata"`,
            `reprocess="failed"`, `titles=["Alien", ...]` (a list is written to a file), `batch_size=50`,
            `language=["de-DE", "en-US"]`, `certification_countries=["DE", "US"]`,
            `image_languages=["de", None, "en"]` (None: textless; or each as one comma-separated string),
            `max_requests_per_second=20`, `no_http_cache=True`, `key_field="title+year"` (what names an array's
            records), Beam's options too (`direct_num_workers=2`).

    A second launch on an output whose run this process launched a moment ago waits (seconds) until that run
    holds the output: then it starts, and is the one refused (state failed, exit status 3, the holder's line).

    Raises:
        OptionError: a bad option or input, with the command line's one-line message; nothing was started.
    """
    if run_id is not None and not RUN_ID.fullmatch(run_id):
        raise OptionError(f"run_id {run_id!r} is not a run id (such as {model.new_run_id()!r})")
    child_env = {**os.environ, **(env or {})}
    source = _key_source(tmdb_api_key, tmdb_api_key_file, child_env)
    scratch = tempfile.mkdtemp(prefix="movie-enrich-run-")
    try:
        argv = _argv(input, options, scratch)
        places = _places(_checked(argv, source.key, source.path))
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    from movie_enrichment.io import keyfile
    from movie_enrichment.pipelines import report
    run_id = run_id or model.new_run_id()
    # The child gets the one source chosen here, whatever the caller's environment holds besides.
    child_env.pop(keyfile.ENV_KEY, None)
    child_env.pop(keyfile.ENV_KEY_FILE, None)
    if source.key:
        child_env[keyfile.ENV_KEY] = source.key
    elif source.path:
        child_env[keyfile.ENV_KEY_FILE] = source.path
    child_env[report.RUN_ID_ENV] = run_id
    child_env["PYTHONUNBUFFERED"] = "1"
    with _launch_order(places, options.get("table")) as launched:
        with open(os.path.join(scratch, _LOG), "wb") as log:
            # A session of its own: a Ctrl-C meant for the caller's terminal does not cancel its runs, and a run
            # outlives a restarted server (which can attach() to it again).
            process = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "movie_enrichment", *argv], stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, env=child_env, start_new_session=True, close_fds=True)
        run = Run(run_id=run_id, pid=process.pid, **places, argv=[_absolute(a) if "://" in a else a for a in argv],
                  started_at=progress.now_iso(), process=process, scratch=scratch)
        launched.append(run)
    return run


# Runs this process launched whose child may not hold its output's run lock yet, by output (and table), with a
# lock per output that orders launches on it. The run lock alone would let the children race for it: two
# launches back to back start two children within a second, each spends a second or two importing Apache Beam,
# and whichever finished first took the lock, often the second (seen: the first refused, the second run).
_LAUNCHING: dict[tuple, "Run"] = {}
_LAUNCH_LOCKS: dict[tuple, threading.Lock] = {}
_LAUNCHING_LOCK = threading.Lock()
# How long a launch waits for the previous launch on its output to take the run lock (or to end): Beam's import
# and the option checks, seconds on a loaded machine; past it the children are left to the lock as before.
_ORDER_WAIT_SECONDS = 120.0


@contextlib.contextmanager
def _launch_order(places: Mapping[str, str | None], table: str | None):
    """Starts the launches of one output in the order launch() was called: a launch waits until the run
    launched before it on the same output holds the run lock (its progress file names it) or has ended, and
    only then starts its own child, which the run lock then refuses with the holder's one line (exit status 3)
    while the earlier run goes on. Yields a list to which the caller appends its Run, once started.

    Only launches of this process are ordered; between processes the run lock decides, as for the command line.
    Without a progress file (an output that is not local) the earlier child's lock cannot be seen: no wait."""
    where = (places["output"], table)
    with _LAUNCHING_LOCK:
        order = _LAUNCH_LOCKS.setdefault(where, threading.Lock())
    with order:
        earlier = _LAUNCHING.get(where)
        if earlier is not None and earlier.progress_file:
            deadline = time.monotonic() + _ORDER_WAIT_SECONDS
            while earlier._status() is None and not earlier._ended() and time.monotonic() < deadline:
                time.sleep(0.05)
        launched: list[Run] = []
        yield launched
        if launched:
            _LAUNCHING[where] = launched[0]


def check_options(input: str, *, tmdb_api_key: str | None = None,  # noqa: A002
                  tmdb_api_key_file: str | os.PathLike | None = None, env: Mapping[str, str] | None = None,
                  **options: Any) -> dict[str, str | None]:
    """The checks `launch()` makes before it starts a run, without starting one: for a server that accepts a
    run's options now and launches it later (a queue), or checks its own settings when it starts.

    Args:
        input, tmdb_api_key, tmdb_api_key_file, env, **options: as for `launch()`.

    Returns:
        Where the run would read and write: `input`, `output`, `progress_file` and `report_file`, as a handle
        names them (absolute local paths; a store URL without its password; None where there is none).

    Raises:
        OptionError: a bad option or input, with the command line's one-line message.
    """
    source = _key_source(tmdb_api_key, tmdb_api_key_file, {**os.environ, **(env or {})})
    with tempfile.TemporaryDirectory(prefix="movie-enrich-check-") as scratch:  # a --titles list's file
        return _places(_checked(_argv(input, options, scratch), source.key, source.path))


def tmdb_settings(input: str, *, tmdb_api_key: str | None = None,  # noqa: A002
                  tmdb_api_key_file: str | os.PathLike | None = None, env: Mapping[str, str] | None = None,
                  **options: Any):
    """The TMDB client settings (`io.tmdb.TmdbSettings`: the key, the API root, the rate, the HTTP cache) a run
    with these options would use: for a server that asks TMDB itself besides its runs, as the console's identify
    box does, within the same machine-wide rate budget and cache. A key file is read now.

    Raises:
        OptionError: as `check_options()`, e.g. when no key is given.
    """
    source = _key_source(tmdb_api_key, tmdb_api_key_file, {**os.environ, **(env or {})})
    with tempfile.TemporaryDirectory(prefix="movie-enrich-check-") as scratch:
        return _checked(_argv(input, options, scratch), source.key, source.path).settings


def _places(config) -> dict[str, str | None]:
    """A checked run's files, as a handle shows them."""
    return {"input": _absolute(config.input), "output": _absolute(config.output),
            "progress_file": _absolute(config.progress_file), "report_file": _absolute(config.report)}


def _absolute(path: str | None) -> str | None:
    """A local path made absolute; a URL without its password (a handle's fields are shown to people)."""
    from movie_enrichment.io.stores import redact_url
    return os.path.abspath(path) if path and "://" not in path else redact_url(path) if path else path


async def launch_async(input: str, **kwargs: Any) -> "Run":  # noqa: A002
    """`launch()` for an asyncio server: the option checks (and the first import of Apache Beam, a second or
    two) run in a thread, so the event loop keeps serving."""
    return await asyncio.to_thread(launch, input, **kwargs)


def attach(output: str | None = None, *, progress_file: str | None = None, run_id: str | None = None,
           table: str | None = None) -> "Run":
    """A handle on the latest run of `output` (a JSON file or a store URL such as `sqlite:///movies.db`; its
    `table`) or of a progress file, running or ended, from that file: how a restarted server finds the runs
    it launched. Raises FileNotFoundError if no run has started on that output yet, LookupError if `run_id`
    is given and the latest run is another one."""
    if progress_file is None:
        if output is None:
            raise TypeError("attach() needs output or progress_file")
        from movie_enrichment.io import stores
        from movie_enrichment.pipelines.config import progress_file_path
        progress_file = progress_file_path(None, stores.sidecar_base(output, table or stores.DEFAULT_TABLE))
        if progress_file is None:
            raise ValueError(f"{output} is not local: pass progress_file= (the run's --progress_file)")
    status = progress.read_json(progress_file)
    if status is None:
        raise FileNotFoundError(f"no run to attach to: {progress_file} does not exist (or is not a progress file)")
    if run_id is not None and status.get("run_id") != run_id:
        raise LookupError(f"run {run_id} is not the latest run on {status.get('output')}: "
                          f"that is {status.get('run_id')}")
    return Run(run_id=status["run_id"], pid=status["pid"], input=status.get("input"), output=status.get("output"),
               progress_file=progress_file, report_file=status.get("report"), argv=None,
               started_at=status.get("started_at"))


class Run:
    """One enrichment run in a child process: its state, live progress, report and control.

    Every method is cheap and non-blocking except `wait()`; `to_dict()` is JSON-serializable. A handle from
    `attach()` has no process object: it follows the run through its progress file and pid.
    """

    def __init__(self, run_id: str, pid: int, input: str | None, output: str | None,  # noqa: A002
                 progress_file: str | None, report_file: str | None, argv: list[str] | None,
                 started_at: str | None, process: subprocess.Popen | None = None, scratch: str | None = None):
        self.id = run_id
        self.pid = pid
        self.input = input
        self.output = output
        self.progress_file = progress_file
        self.report_file = report_file
        self.argv = argv
        self.started_at = started_at
        self.ended_at: str | None = None
        self._process = process
        self._scratch = scratch
        self._cancelled = False
        self._returncode: int | None = None
        self._log_tail = ""
        self._final: dict | None = None
        self._lock = threading.RLock()  # a threaded server may ask one handle from several threads

    def __repr__(self) -> str:
        return f"<Run {self.id} {self.state} pid={self.pid} output={self.output!r}>"

    # -- state -------------------------------------------------------------------------------------------
    def _status(self) -> dict | None:
        """This run's progress file, or None while the file is absent or still another run's."""
        if self._final is not None:
            return self._final
        status = progress.read_json(self.progress_file) if self.progress_file else None
        return status if status and status.get("run_id") == self.id else None

    def _ended(self) -> bool:
        with self._lock:
            return self._ended_locked()

    def _ended_locked(self) -> bool:
        if self._final is not None or self._returncode is not None:
            return True
        if self._process is not None:
            code = self._process.poll()
            if code is None:
                return False
            self._finish(code)
            return True
        status = self._status()
        if status is not None and status.get("final"):
            self._finish(status.get("exit_status"))
            return True
        if processes.alive(self.pid):
            return False
        self._finish(None)
        return True

    def _finish(self, code: int | None) -> None:
        self._returncode = code
        self.ended_at = self.ended_at or progress.now_iso()
        status = self._status()
        if status is not None and status.get("final"):
            self._final = status
        if self._scratch is not None:
            self._log_tail = _tail(os.path.join(self._scratch, _LOG))
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    @property
    def state(self) -> str:
        """queued (started, has not taken the output's lock yet), running, succeeded, failed or cancelled."""
        if not self._ended():
            status = self._status()
            if status is None:
                return "queued"
            # The database is written (or the run has given up) before the process winds down.
            return status["state"] if status.get("final") else "running"
        if self._final is not None:
            return self._final["state"]
        code = self._returncode
        if code in _COMPLETED:
            return "succeeded"
        if code in _INTERRUPTED or (self._cancelled and code is not None):
            return "cancelled"
        return "failed"

    @property
    def returncode(self) -> int | None:
        """The command line's exit status once the run has ended (None before, or if it was killed unseen)."""
        self._ended()
        if self._returncode is None and self._final is not None:
            return self._final.get("exit_status")
        return self._returncode

    @property
    def error(self) -> str | None:
        """The one-line reason of a failed run, as the command line prints it (without its prefix)."""
        if self.state != "failed":
            return None
        lines = [line.strip() for line in self._log_tail.splitlines() if line.strip()]
        said = [line[len(_ERROR_PREFIX):] for line in lines if line.startswith(_ERROR_PREFIX)]
        if said:
            return said[-1]
        if self._final is not None and self._final.get("error"):
            return self._final["error"]
        if lines:
            return lines[-1]
        return f"the run's process (pid {self.pid}) ended without saying why (killed?)"

    # -- figures -----------------------------------------------------------------------------------------
    def progress(self) -> dict:
        """The live figures (a small file read): phase (starting, reading, enriching, writing, done, failed,
        cancelled), movies_selected, movies_done, movies_failed, percent, requests, requests_per_second,
        throttled_429, retries, cache_hits, elapsed_seconds, eta_seconds, tmdb_unreachable (TMDB not answering
        now), and this run's state."""
        state = self.state
        status = self._status()
        figures = dict(status) if status else {"phase": "starting", **dict.fromkeys(_FIGURES, 0),
                                               "eta_seconds": None, "tmdb_unreachable": False}
        if state in ENDED and not figures.get("final"):
            figures["phase"] = {"succeeded": "done", "failed": "failed", "cancelled": "cancelled"}[state]
        figures["state"] = state
        return figures

    def report(self) -> dict | None:
        """The run report (`<output>.report.json`) as a dict, once the run has succeeded; else None."""
        if self.state != "succeeded" or not self.report_file:
            return None
        report = progress.read_json(self.report_file)
        return report if report and report.get("run_id") == self.id else None

    def log(self) -> str:
        """What the command printed (the summary table, progress lines, the error line): the last 64 KB."""
        with self._lock:
            if self._scratch is not None:
                return _tail(os.path.join(self._scratch, _LOG))
            return self._log_tail

    def to_dict(self) -> dict:
        """Everything about the run as JSON-serializable values (no key, no secret)."""
        return {"id": self.id, "state": self.state, "pid": self.pid, "input": self.input, "output": self.output,
                "argv": self.argv, "progress_file": self.progress_file, "report_file": self.report_file,
                "started_at": self.started_at, "ended_at": self.ended_at, "returncode": self.returncode,
                "error": self.error, "progress": self.progress(), "report": self.report()}

    # -- control -----------------------------------------------------------------------------------------
    def wait(self, timeout: float | None = None) -> str:
        """Blocks until the run ends and returns its state; raises TimeoutError after `timeout` seconds."""
        if self._process is not None:
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                raise TimeoutError(f"run {self.id} still {self.state} after {timeout} s") from None
            return self.state
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._ended():
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"run {self.id} still {self.state} after {timeout} s")
            time.sleep(0.2)
        return self.state

    async def wait_async(self, timeout: float | None = None, interval: float = 0.2) -> str:
        """`wait()` for asyncio: polls every `interval` seconds without blocking the event loop."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._ended():
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"run {self.id} still {self.state} after {timeout} s")
            await asyncio.sleep(interval)
        return self.state

    def cancel(self) -> bool:
        """Asks the run to stop (SIGTERM, which the command treats as Ctrl-C): finished batches stay
        checkpointed, and the database is the old file or the complete new one; a rerun of the same options
        finishes the rest. Returns at once (False if the run had already ended); `wait()` for the end."""
        return self._signal(signal.SIGTERM)

    def kill(self) -> bool:
        """Stops the run at once (SIGKILL), for a run that does not answer cancel(): the database is still the
        old file or the complete new one, and the checkpoints written so far stay."""
        return self._signal(signal.SIGKILL)

    def _signal(self, number: int) -> bool:
        if self._ended():
            return False
        self._cancelled = True
        try:
            os.kill(self.pid, number)
        except ProcessLookupError:
            return False
        return True


def _tail(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, os.path.getsize(path) - _LOG_TAIL))
            return handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
