"""From a command line to a run: one strict parse, every default applied, then the RunConfig derived from it."""

import argparse
import dataclasses
import datetime
import logging
import os
from typing import Sequence

from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions, _BeamArgumentParser

from movie_enrichment.io import database, files, keyfile, lock, sink, stores
from movie_enrichment.io.tmdb import DEFAULT_CERTIFICATION_COUNTRIES, TmdbSettings, redact
from movie_enrichment.pipelines import options as opts
from movie_enrichment.pipelines import runners
from movie_enrichment.pipelines.errors import FatalError, usage
from movie_enrichment.transforms import fields, naming
from movie_enrichment.transforms.download import DEFAULT_KINDS, DownloadSettings, download_option
from movie_enrichment.transforms.enrichers import derived_with
from movie_enrichment.transforms.selection import REFRESH_MODES, PinsError, Selector, read_pins, read_titles

# An option that never reaches PipelineOptions, which Beam may log, ship to workers or show on a job page: the
# key travels only inside our picklable TmdbSettings.
_SECRET = "tmdb_api_key"


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Everything a run needs, resolved from the options (paths defaulted, key looked up, rate shared out).

    The first group is what `build_pipeline` reads; the second is how the run is launched and shown.
    """

    input: str
    output: str
    backup_dir: str
    failures: str
    checkpoint_dir: str | None
    settings: TmdbSettings
    selector: Selector
    batch_size: int = 200
    poster_size: str = "w500"
    backdrop_size: str = "w1280"
    keep_backups: int = 10
    extra_inputs: tuple[str, ...] = ()  # movie files merged in by `--watch`
    field_overrides: tuple[tuple[str, str], ...] = ()  # `--field ROLE=NAME`
    table: str = stores.DEFAULT_TABLE  # the table of a database store (`--input sqlite:///...`)
    run_id: str = ""  # a database store keeps each changed row's previous version under the run's id
    review: str = ""  # the review list, <output>.review.jsonl
    on_duplicate_keys: str = "keep_last"  # `--on_duplicate_keys`: keep_last or fail
    writer_wait: float | None = lock.WRITER_WAIT_SECONDS  # seconds to wait for another writer's database lock
    key_field: str | None = None  # `--key_field`: what names an array's records (`with_naming`)
    download: DownloadSettings | None = None  # `--download_images` and its options; None: links only
    prune_images: bool = False  # `--prune_images`

    report: str | None = None  # None: no report file
    progress_file: str | None = None  # the live figures as JSON for other programs; None: none
    max_requests_per_second: float = 0.0  # for the whole run; `settings` holds this process's share
    progress: str = "off"
    progress_interval: float = 10.0
    log_level: str = "WARNING"
    watch: str | None = None
    watch_interval: float = 5.0
    dry_run: bool = False
    max_failures: str = "0"  # `--max_failures`: a count or a percentage
    lock_timeout: float = 0.0  # seconds to wait for another run of the same output (`--lock_timeout`)


class _StrictParser(_BeamArgumentParser):
    """Beam's own parser (so every option parses exactly as Beam parses it) that refuses what it cannot parse:
    Beam only warns about unknown or malformed options."""

    def error(self, message):
        raise usage(f"bad option: {message}")


def _option_classes() -> list[type]:
    """Every PipelineOptions class Beam knows of, ours first (each class's options form one --help group)."""
    seen, todo = [], [PipelineOptions]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in seen:
                seen.append(sub)
                todo.append(sub)
    return [opts.EnrichmentOptions] + [c for c in seen if c is not opts.EnrichmentOptions]


def parser(include_ours: bool = True) -> argparse.ArgumentParser:
    """One parser with the options of every class, as `PipelineOptions` builds it."""
    built = _StrictParser(prog="movie-enrich", add_help=False, allow_abbrev=False)
    for cls in _option_classes()[0 if include_ours else 1:]:
        try:
            cls._add_argparse_args(built)  # pylint: disable=protected-access
        except argparse.ArgumentError:
            pass  # an option declared twice by Beam's own classes
    return built


def parse(argv: Sequence[str]) -> tuple[PipelineOptions, str | None]:
    """THE parse of a command line: strict, with the local engine's defaults applied to what was not given.

    Returns the options, which carry no secret, and the `--tmdb_api_key` given. Everything else is derived from
    these options, so nothing can see a value the run will not use (a rate shared out before the default
    worker count was applied, say).
    """
    built = parser()
    beam_defaults = {name: built.get_default(name) for name in runners.LOCAL_DEFAULTS}
    built.set_defaults(**dict.fromkeys(runners.LOCAL_DEFAULTS))  # None: "not given", told apart from a given 1
    values, unknown = built.parse_known_args([a for a in argv if a != opts.DRY_RUN_FLAG])
    if unknown:
        raise usage(f"unknown option: {unknown[0]} (see --help)")
    local = runners.uses_local_engine(values.runner)
    for name, default in runners.LOCAL_DEFAULTS.items():
        if getattr(values, name) is None:
            setattr(values, name, default if local else beam_defaults[name])
    # No flags left for Beam to parse again: every value comes from this one parse.
    options = PipelineOptions([], **{k: v for k, v in vars(values).items() if k != _SECRET})
    return options, getattr(values, _SECRET)


def resolve(argv: Sequence[str]) -> tuple[PipelineOptions, RunConfig]:
    """Parses and checks a command line; returns the pipeline's options and the run's config."""
    argv = list(argv)
    options, given_key = parse(argv)
    o = options.view_as(opts.EnrichmentOptions)
    dry_run = opts.DRY_RUN_FLAG in argv
    if not o.input:
        raise usage("missing --input: the movie database to enrich")
    try:
        source = opts.key_source(given_key, o.tmdb_api_key_file)
    except keyfile.KeyFileError as error:
        raise usage(str(error)) from None
    try:
        key = source.read()
    except keyfile.KeyFileError as error:  # like an input file that cannot be read: a fatal problem, status 1
        raise FatalError(str(error)) from None
    if not key and not dry_run:
        raise usage("no TMDB API key: pass --tmdb_api_key_file PATH (a chmod 600 file holding the key) or set "
                    "TMDB_API_KEY (a key is free at themoviedb.org, under Settings > API)")
    if not isinstance(logging.getLevelName(o.log_level.upper()), int):
        raise usage(f"bad option: --log_level {o.log_level!r} is not a logging level")
    _check_together(o, argv)
    try:
        field_overrides = tuple(fields.parse_field_option(o.field or ()).items())
    except fields.FieldError as error:
        raise usage(str(error)) from None
    try:
        key_field = "+".join(naming.parse_key_field(o.key_field)) if o.key_field is not None else None
    except naming.KeyFieldError as error:
        raise usage(str(error)) from None
    output = o.output or o.input
    if output != o.input and files.is_local(output) and files.resolved(output) == files.resolved(o.input):
        output = o.input  # `./movies.json` or a link to the input: the input, enriched in place with its backup
    in_database = stores.is_store_url(o.input)
    if in_database and output != o.input:
        raise usage("a database is enriched in place: leave out --output (movie-enrich convert copies a "
                    "database into another store)")
    if (in_database or stores.is_store_url(output)) and o.watch:
        raise usage("--watch works on a JSON file database only")
    try:
        table = stores.check_table_name(o.table)
    except stores.StoreError as error:
        raise usage(str(error)) from None
    # A database's own files (report, failures, progress) are named after its SQLite file, or after
    # <database>.<table> for PostgreSQL.
    named = stores.sidecar_base(output, table)
    total_rate = o.max_requests_per_second
    settings = TmdbSettings(
        api_key=key or "", key_origin=source.describe(), base_url=o.tmdb_base_url.rstrip("/"),
        max_requests_per_second=total_rate / runners.process_count(options) if total_rate else 0.0,
        # This machine's processes share one rate budget (io/tmdb/budget.py): on the local engine, the whole rate.
        machine_rate=total_rate if runners.uses_local_engine(options.view_as(StandardOptions).runner) else None,
        max_concurrency=o.max_concurrency, timeout=o.http_timeout, retries=max(0, o.http_retries),
        down_after=o.tmdb_down_after,
        language=o.language[0] if o.language else None, languages=tuple(o.language or ()),
        certification_countries=tuple(o.certification_countries or DEFAULT_CERTIFICATION_COUNTRIES),
        image_languages=tuple(None if code == "null" else code for code in o.image_languages or ()),
        cache_path=None if o.no_http_cache else (o.http_cache or opts.default_http_cache()),
        cache_days=o.http_cache_days, cache_max_bytes=int(o.http_cache_max_mb * 1024 * 1024),
        refresh=o.reprocess in REFRESH_MODES)
    download = _download_settings(o)
    config = RunConfig(
        input=o.input, output=output,
        backup_dir=o.backup_dir or sink.default_backup_dir(named),
        failures=o.failures or files.beside(named, ".failures.jsonl"),
        # A database's checkpoints are its own transactions, one per lookup batch.
        checkpoint_dir=None if in_database else (o.checkpoint_dir or files.beside(output, ".checkpoints")),
        settings=settings,
        selector=Selector(enrichers=o.enrich, mode=o.reprocess, stale_before=stale_before(o.stale_after),
                          titles=_read_lines("--titles", o.titles, read_titles) if o.titles else None,
                          pins=_read_lines("--pins", o.pins, read_pins) if o.pins else {},
                          field_overrides=field_overrides,
                          derived_with=_with_download(derived_with(settings), download)),
        review=files.beside(named, ".review.jsonl"),
        batch_size=o.batch_size, poster_size=o.poster_size, backdrop_size=o.backdrop_size,
        keep_backups=o.keep_backups, field_overrides=field_overrides, table=table,
        on_duplicate_keys=o.on_duplicate_keys, key_field=key_field,
        report=report_path(o.report, named), progress_file=progress_file_path(o.progress_file, named),
        max_requests_per_second=total_rate,
        progress=o.progress, progress_interval=o.progress_interval, log_level=o.log_level,
        watch=o.watch, watch_interval=o.watch_interval, dry_run=dry_run,
        download=download, prune_images=o.prune_images,
        max_failures=o.max_failures, lock_timeout=o.lock_timeout,
        writer_wait=max(o.lock_timeout, lock.WRITER_WAIT_SECONDS))
    return options, config


def _download_settings(o: opts.EnrichmentOptions) -> DownloadSettings | None:
    """`--download_images` and its options, or None without it."""
    if not o.download_images:
        return None
    return DownloadSettings(
        root=o.download_images, kinds=DEFAULT_KINDS + (("logo",) if o.download_logos else ()),
        concurrency=o.image_concurrency,
        max_bytes=int(o.images_max_gb * 1e9) if o.images_max_gb is not None else None,
        retries=max(0, o.http_retries), timeout=o.http_timeout)


def _with_download(derived: dict, download: DownloadSettings | None) -> dict:
    """With downloads, the images block is derived with them too: a movie whose images were enriched without
    (or with other kinds) is selected again, and its images are stored."""
    if download is None:
        return derived
    return {**derived, "images": {**(derived.get("images") or {}), **download_option(download.kinds)}}


def _given(argv: Sequence[str], name: str) -> bool:
    """Whether the command line gives `--name` (as `--name VALUE` or `--name=VALUE`)."""
    flag = f"--{name}"
    return any(arg == flag or arg.startswith(flag + "=") for arg in argv)


def _check_together(o: opts.EnrichmentOptions, argv: Sequence[str]) -> None:
    """An option that this run would ignore is a usage error naming why: the user meant something by it."""
    in_store = stores.is_store_url(o.input)
    to_store = stores.is_store_url(o.output or o.input)
    ignored = [
        ("stale_after", o.reprocess != "stale", "it applies to --reprocess stale only"),
        ("watch_interval", not o.watch, "it applies to --watch only"),
        ("http_cache", o.no_http_cache, "--no_http_cache turns the cache off"),
        ("http_cache_days", o.no_http_cache, "--no_http_cache turns the cache off"),
        ("http_cache_max_mb", o.no_http_cache, "--no_http_cache turns the cache off"),
        ("poster_size", "images" not in o.enrich, "it applies to --enrich images only"),
        ("image_languages", "images" not in o.enrich, "it applies to --enrich images only"),
        ("certification_countries", "metadata" not in o.enrich, "it applies to --enrich metadata only"),
        ("backdrop_size", "images" not in o.enrich, "it applies to --enrich images only"),
        ("progress_interval", o.progress in ("off", "bar"),
         f"--progress {o.progress} prints no progress lines"),
        ("max_failures", bool(o.watch), "--watch keeps running and exits 0 when stopped"),
        ("table", not in_store and not to_store, "it applies to a SQLite or PostgreSQL database only"),
        ("checkpoint_dir", in_store, "a database keeps each finished batch itself (one transaction each)"),
        ("backup_dir", to_store, "a database keeps its earlier rows in its history table (movie-enrich restore)"),
        ("on_duplicate_keys", in_store, "a database's keys are unique"),
        ("key_field", in_store, "a database's rows are named by their keys"),
        ("download_images", "images" not in o.enrich, "it applies to --enrich images only"),
        ("download_logos", not o.download_images, "it applies to --download_images only"),
        ("image_concurrency", not o.download_images, "it applies to --download_images only"),
        ("images_max_gb", not o.download_images, "it applies to --download_images only"),
        ("prune_images", not o.download_images, "it applies to --download_images only"),
        ("prune_images", in_store, "a database is read in part (the rows the run selects): use a JSON file"),
    ]
    for name, unused, why in ignored:
        if unused and _given(argv, name):
            raise usage(f"--{name} would be ignored: {why}")


def check(argv: Sequence[str]) -> tuple[PipelineOptions, RunConfig]:
    """Everything the command checks before it starts work (the options, the input file, the output folder),
    with no side effect: the launch API calls it in its own process before it starts a run."""
    options, config = resolve(argv)
    if not config.dry_run:
        check_paths(config)
    return options, config


def report_path(given: str | None, output: str) -> str:
    """`--report`, or `<output>.report.json`."""
    return given or files.beside(output, ".report.json")


def progress_file_path(given: str | None, output: str) -> str | None:
    """`--progress_file`, or `<output>.progress.json` beside a local output."""
    return given or (files.beside(output, ".progress.json") if files.is_local(output) else None)


def with_changed_ids(config: RunConfig) -> RunConfig:
    """With `--reprocess changed`, the config whose selector knows which movies TMDB edited since their
    enrichment (this asks TMDB and reads the database); otherwise the config as it is."""
    if config.selector.mode != "changed":
        return config
    from movie_enrichment.pipelines import changes  # it builds on RunConfig
    if not config.settings.api_key:
        raise usage("--reprocess changed asks TMDB which movies changed: it needs the API key, even with "
                    "--dry_run")
    if not stores.is_store_url(config.input):
        _check_input(config.input)
    try:
        return changes.with_changed_ids(config)
    except changes.ChangesError as error:
        raise FatalError(redact(str(error), config.settings.api_key)) from None


def with_naming(config: RunConfig) -> RunConfig:
    """The config whose selector knows how the records of an array or JSON Lines file are named (`naming.decide`:
    `--key_field`, an id field, title and year, or the position), or the config as it is for a keyed file, a
    database, or an input that is not there yet (`--watch`) or unreadable (the run says why).

    An array or JSON Lines file is read once more for it, before the run, as `--reprocess changed` reads it; a
    keyed file is known by its first line and not read. `--key_field` on a keyed file is a usage error: its
    records are named by their keys.
    """
    if stores.is_store_url(config.input) or not FileSystems.exists(config.input):
        return config
    if not config.key_field and not _maybe_array_or_lines(config.input):
        return config
    try:
        snapshot, items = database.load(config.input)
    except database.DatabaseError:
        return config  # the run refuses the file with its own line
    if snapshot.format == database.FORMAT_OBJECT:
        if config.key_field:
            raise usage(f"--key_field would be ignored: {config.input} is a keyed object file, whose records are "
                        "named by their keys")
        return config
    chosen = naming.decide(items, config.key_field, config.field_overrides)
    return dataclasses.replace(config, selector=dataclasses.replace(config.selector, naming=chosen))


_HEAD_BYTES = 64 * 1024


def _maybe_array_or_lines(path: str) -> bool:
    """Whether a database file may be an array or JSON Lines, from its first bytes (`database.format_from_head`):
    a keyed file written over several lines is known by its first line and not read."""
    try:
        with FileSystems.open(path) as handle:
            head = handle.read(_HEAD_BYTES)
    except (OSError, ValueError):
        return False  # the run says why it cannot read it
    return database.format_from_head(path, head) != database.FORMAT_OBJECT


def _read_lines(option: str, path: str, parse):
    """A small file of lines given with an option (`--titles`, `--pins`), parsed; a one-line usage error when it
    cannot be."""
    try:
        with FileSystems.open(path) as handle:
            return parse(handle.read().decode("utf-8").splitlines())
    except (OSError, UnicodeDecodeError) as error:
        raise usage(f"cannot read {option} {path}: {error}") from None
    except PinsError as error:
        raise usage(f"{option} {path}: {error}") from None


def stale_before(days: float | None) -> datetime.datetime | None:
    if days is None:
        return None
    return datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days)


def check_paths(config: RunConfig) -> None:
    """Fails before any work when the input cannot be read (the watch loop makes its own) or the output cannot
    be written at all. Cheap checks that need no read: the pipeline reads the file once."""
    if stores.is_store_url(config.input):
        # A database store is checked when it is opened; only a missing SQLite file is told here, where
        # opening it would create an empty one.
        if config.input.startswith("sqlite:") and not os.path.exists(stores.sqlite_path(config.input)):
            raise FatalError(f"SQLite database not found: {stores.sqlite_path(config.input)} "
                             "(movie-enrich convert makes one from a JSON file)")
        return
    if not config.watch:
        _check_input(config.input)
    directory = FileSystems.split(config.output)[0]
    if directory and not FileSystems.exists(directory):
        raise FatalError(f"output folder does not exist: {directory}")
    if directory and files.is_local(config.output):
        if not os.access(directory, os.W_OK):
            raise FatalError(f"output folder is not writable: {directory}")
        if os.path.isdir(config.output):
            raise FatalError(f"output is a directory, not a file: {config.output}")


def _check_input(path: str) -> None:
    if files.is_local(path):
        if os.path.isdir(path):
            raise FatalError(f"input is a directory, not a file: {path}")
        if not os.path.exists(path):
            raise FatalError(f"input file not found: {path}")
        if not os.access(path, os.R_OK):
            raise FatalError(f"input file is not readable (permission denied): {path}")
        if os.path.getsize(path) == 0:
            raise FatalError(f"input is empty: {path}")
    elif not FileSystems.exists(path):
        raise FatalError(f"input file not found: {path}")
