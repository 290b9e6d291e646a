"""The enrichment pipeline's graph, built apart from launching it so tests can build it on a TestPipeline."""

import apache_beam as beam

from movie_enrichment.io import checkpoints, database, sink
from movie_enrichment.io.failures import WriteFailures
from movie_enrichment.pipelines.config import RunConfig
from movie_enrichment.transforms.enrich import EnrichMovies
from movie_enrichment.transforms.selection import SelectMoviesFn

READ_CHUNK = 1000


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
    # After the database, never beside it: a failed write must leave the previous list with the previous data.
    enriched["failures"] | "WriteFailures" >> WriteFailures(config.failures, written)
    return {"records": read.records, "selected": selected, "patches": enriched["patches"],
            "failures": enriched["failures"], "written": written}
