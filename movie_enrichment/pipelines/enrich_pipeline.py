"""The enrichment pipeline's graph, built apart from launching it so tests can build it on a TestPipeline."""

import dataclasses
import datetime
from typing import Any, Iterable

import apache_beam as beam
import orjson

from movie_enrichment.io import checkpoints, database, progress, sink
from movie_enrichment.io.tmdb import TmdbSettings
from movie_enrichment.transforms.enrich import EnrichMovies
from movie_enrichment.transforms.selection import Selector

READ_CHUNK = 1000


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Everything the graph needs, resolved from the options (paths defaulted, key looked up)."""

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


class SelectMoviesFn(beam.DoFn):
    """Keeps the records this run enriches, with the enrichers each needs.

    Args:
        selector: the `--reprocess`/`--titles` rules.

    Input: lists of (key, record), straight from the read and fused with it (no side input, so the tens of
    thousands of records that pass through untouched never cross the runner). Output: (key, (record,
    needed_enrichers)). Passing movies are not emitted at all: the sink keeps every record it gets no patch for.
    """

    def __init__(self, selector: Selector):
        self._selector = selector

    def process(self, chunk: list[tuple[str, Any]]) -> Iterable[tuple[str, tuple[Any, tuple[str, ...]]]]:
        for key, record in chunk:
            needed = self._selector.needed(key, record)
            if needed:
                progress.add(selected=1)
                yield key, (record, needed)

    def finish_bundle(self) -> None:
        progress.TRACKER.flush()


def build_pipeline(p: beam.Pipeline, config: RunConfig) -> dict:
    """Adds the whole job to `p` and returns its main PCollections (for tests and for the launcher)."""
    read = p | "ReadMovies" >> database.ReadMovieDatabase(config.input, config.extra_inputs,
                                                                chunk_size=READ_CHUNK)
    resumed = p | "ReadCheckpoints" >> checkpoints.ReadCheckpoints(config.checkpoint_dir)
    selected = read.records | "SelectMovies" >> beam.ParDo(SelectMoviesFn(config.selector))
    enriched = selected | "Enrich" >> EnrichMovies(
        config.settings, config.selector.enrichers, config.batch_size, config.poster_size, config.backdrop_size,
        config.checkpoint_dir, resumed=resumed, field_overrides=config.field_overrides)
    written = enriched["patches"] | "WriteDatabase" >> sink.WriteDatabase(
        read.snapshot, config.output, config.backup_dir, config.keep_backups)
    # An impulse of its own, not the snapshot, so the database's bytes are not handed to one more stage.
    p | "FailuresFile" >> beam.Create([config.failures]) | "WriteFailures" >> beam.ParDo(
        _WriteFailuresFn(config.failures), failures=beam.pvalue.AsList(enriched["failures"]))
    return {"records": read.records, "selected": selected, "patches": enriched["patches"],
            "failures": enriched["failures"], "written": written}


class _WriteFailuresFn(beam.DoFn):
    """Writes this run's failures as JSON Lines beside the output, or removes a stale list when none failed."""

    def __init__(self, path: str):
        self._path = path

    def process(self, _path: str, failures: list[dict]) -> Iterable[int]:
        from apache_beam.io.filesystems import FileSystems
        if failures:
            failures = sorted(failures, key=lambda f: (f["key"], f["enricher"]))
            sink.atomic_write(self._path, b"".join(orjson.dumps(f) + b"\n" for f in failures),
                              mime_type="application/x-ndjson")
        elif FileSystems.exists(self._path):
            FileSystems.delete([self._path])
        yield len(failures)


def stale_before(days: float | None) -> datetime.datetime | None:
    if days is None:
        return None
    return datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days)
