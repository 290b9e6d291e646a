"""The enrichment pipeline's graph, built apart from launching it so tests can build it on a TestPipeline."""

import functools
from typing import Any, Callable

import apache_beam as beam

from movie_enrichment.io import checkpoints, database, review, sink, stores
from movie_enrichment.io.failures import WriteFailures
from movie_enrichment.io.stores.beamio import ReadStore, ReadStoreMatches, WriteStore
from movie_enrichment.io.tmdb import TmdbClient, TmdbSettings
from movie_enrichment.pipelines.config import RunConfig
from movie_enrichment.transforms.download import DownloadImages, PruneImages
from movie_enrichment.transforms.enrich import EnrichMovies, digest_roles, match_digest
from movie_enrichment.transforms.selection import SelectMoviesFn, Selector
from movie_enrichment.transforms.shared import SharedMatches, matched_before

READ_CHUNK = 1000


def store_selection(selector: Selector) -> stores.Selection:
    """The part of the selection a database store runs in SQL: a superset of what `selector.needed` keeps (the
    selector still decides, row by row, on what the store returns)."""
    cutoff = selector.stale_cutoff()
    stale = cutoff.isoformat() if cutoff is not None else None
    return stores.Selection(enrichers=selector.enrichers, mode=selector.mode, stale_before=stale,
                            keys=tuple(selector.pins))


def build_pipeline(p: beam.Pipeline, config: RunConfig,
                   client_factory: Callable[[TmdbSettings], Any] = TmdbClient) -> dict:
    """Adds the whole job to `p` and returns its main PCollections (for tests and for the launcher).

    The graph is the same for every store; the store gives its reader and its writer. The JSON file is read
    once (records plus a snapshot) and written once, at the end, with every movie's parts merged. A database
    store is read by key ranges, only the rows the selection may pick, and written per lookup batch, one
    transaction each, straight from the enrichers' field-level patches: those transactions are its checkpoints.
    `client_factory` builds each DoFn's TMDB client from the settings; tests pass a fake.
    """
    in_database = stores.is_store_url(config.input)
    if in_database:
        records = p | "ReadMovies" >> ReadStore(config.input, config.table, store_selection(config.selector),
                                                chunk_size=READ_CHUNK)
    else:
        read = p | "ReadMovies" >> database.ReadMovieDatabase(
            config.input, config.extra_inputs, chunk_size=READ_CHUNK, on_duplicate_keys=config.on_duplicate_keys,
            writer_wait=config.writer_wait)
        records = read.records
    resumed = p | "ReadCheckpoints" >> checkpoints.ReadCheckpoints(config.checkpoint_dir)
    selected = records | "SelectMovies" >> beam.ParDo(SelectMoviesFn(config.selector))
    enriched = selected | "Enrich" >> EnrichMovies(
        config.settings, config.selector.enrichers, config.batch_size, config.poster_size, config.backdrop_size,
        config.checkpoint_dir, resumed=resumed, client_factory=client_factory, field_overrides=config.field_overrides,
        pins=config.selector.pins, naming=config.selector.naming,
        per_movie=not in_database,
        download=DownloadImages(config.settings, config.download, client_factory) if config.download else None)
    if in_database:
        written = enriched["patches"] | "WriteDatabase" >> WriteStore(
            config.output, config.table, config.run_id, config.batch_size)
    else:
        # The sink recognises the records looked up by the digest each patch carries, made by the same function.
        digest = functools.partial(match_digest, roles=digest_roles(config.field_overrides))
        written = enriched["patches"] | "WriteDatabase" >> sink.WriteDatabase(
            read.snapshot, config.output, config.backup_dir, config.keep_backups, digest=digest,
            writer_wait=config.writer_wait, spool_dir=sink.spool_dir_for(config.output))
    # After the database, never beside it: a failed write must leave the previous list with the previous data.
    enriched["failures"] | "WriteFailures" >> WriteFailures(config.failures, written)
    if config.download and config.prune_images and not in_database:
        enriched["patches"] | "PruneImages" >> PruneImages(config.download.root, records, written)
    # Records matched to one film, over the whole database: the file as read, or a store's matched rows (one query).
    if in_database:
        before = p | "MatchedBefore" >> ReadStoreMatches(config.input, config.table)
    else:
        before = records | "MatchedBefore" >> beam.FlatMap(matched_before, config.selector.naming)
    shared = before | "SharedMatches" >> SharedMatches(enriched["matched"])
    # Not flattened first: a Flatten of two stages' outputs is held whole by the local engine (issue 23 point 7).
    (enriched["review"], shared) | "WriteReview" >> review.WriteReview(config.review, written, enriched["looked_up"])
    return {"records": records, "selected": selected, "patches": enriched["patches"],
            "failures": enriched["failures"], "written": written}
