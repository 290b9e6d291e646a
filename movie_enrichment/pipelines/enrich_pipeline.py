"""The enrichment pipeline's graph, built apart from launching it so tests can build it on a TestPipeline."""

import dataclasses
import datetime
import logging
from typing import Any, Iterable

import apache_beam as beam
import orjson
from apache_beam.metrics import Metrics

from movie_enrichment.io import checkpoints, database, progress, sink
from movie_enrichment.io.tmdb import TmdbSettings
from movie_enrichment.transforms.enrich import NAMESPACE, EnrichMovies
from movie_enrichment.transforms.selection import Selector, fingerprint

_LOGGER = logging.getLogger(__name__)


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


class SelectMoviesFn(beam.DoFn):
    """Routes each record: to the lookup, to the checkpointed result that already answers it, or nowhere.

    Args:
        selector: the `--reprocess`/`--titles` rules.

    Input: lists of (key, record); side input `resumed`: {key: hit} from the checkpoints. Main output:
    (key, (record, needed_enrichers)); tagged `resumed`: (key, hit) reused as they are. Passing movies
    are not emitted at all: the sink keeps every record it does not get a patch for.
    """

    RESUMED = "resumed"

    def __init__(self, selector: Selector):
        self._selector = selector
        self._resumed = Metrics.counter(NAMESPACE, "resumed")

    def process(self, chunk: list[tuple[str, Any]], resumed: dict) -> Iterable[Any]:
        for key, record in chunk:
            needed = self._selector.needed(key, record)
            if not needed:
                continue
            hit = resumed.get(key) if resumed else None
            if hit and hit["fingerprint"] == fingerprint(record) and set(needed) <= set(hit["enrichers"]):
                self._resumed.inc()
                progress.add(selected=1, done=1)
                yield beam.pvalue.TaggedOutput(self.RESUMED, (key, {
                    **hit, "enrichers": list(needed), "prior": record.get("enrichment")}))
                continue
            progress.add(selected=1)
            yield key, (record, needed)

    def finish_bundle(self) -> None:
        progress.TRACKER.flush()


def build_pipeline(p: beam.Pipeline, config: RunConfig) -> dict:
    """Adds the whole job to `p` and returns its main PCollections (for tests and for the launcher)."""
    read = p | "ReadMovies" >> database.ReadMovieDatabase(config.input, config.extra_inputs,
                                                                chunk_size=READ_CHUNK)
    resumed = p | "ReadCheckpoints" >> checkpoints.ReadCheckpoints(config.checkpoint_dir)
    routed = read.records | "SelectMovies" >> beam.ParDo(
        SelectMoviesFn(config.selector), resumed=beam.pvalue.AsDict(resumed)).with_outputs(
            SelectMoviesFn.RESUMED, main="selected")
    # The read is one element on one worker; spreading its output lets every later stage use every worker.
    selected = routed.selected | "Spread" >> beam.Reshuffle()
    enriched = selected | "Enrich" >> EnrichMovies(
        config.settings, config.selector.enrichers, config.batch_size, config.poster_size, config.backdrop_size,
        config.checkpoint_dir, resumed=routed[SelectMoviesFn.RESUMED])
    written = enriched["patches"] | "WriteDatabase" >> sink.WriteDatabase(
        read.snapshot, config.output, config.backup_dir, config.keep_backups)
    read.snapshot | "WriteFailures" >> beam.ParDo(
        _WriteFailuresFn(config.failures), failures=beam.pvalue.AsList(enriched["failures"]))
    return {"records": read.records, "selected": selected, "patches": enriched["patches"],
            "failures": enriched["failures"], "written": written}


class _WriteFailuresFn(beam.DoFn):
    """Writes this run's failures as JSON Lines beside the output, or removes a stale list when none failed."""

    def __init__(self, path: str):
        self._path = path

    def process(self, _snapshot, failures: list[dict]) -> Iterable[int]:
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
