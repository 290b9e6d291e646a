"""The `EnrichMovies` composite: checkpoint join, batched TMDB lookup, the enrichers, and what comes out of them
(patches, failures, review lines)."""

import dataclasses
from typing import Any, Callable, Iterable

import apache_beam as beam

from movie_enrichment.io.tmdb import TmdbClient, TmdbSettings
from movie_enrichment.model import AMBIGUOUS, FAILED, NOT_FOUND, REMOVED, EnrichedPart, Failure, Lookup, LookupRequest
from movie_enrichment.transforms.enrichers import EnrichPartsFn
from movie_enrichment.transforms.lookup import LookupTmdbFn, MovieLookup, digest_roles, match_digest
from movie_enrichment.transforms.naming import Naming
from movie_enrichment.transforms.patches import merge_parts, movie_patch, part_patch
from movie_enrichment.transforms.selection import checkpoint_answers
from movie_enrichment.transforms.shared import now_matched

# Names other modules import from here.
__all__ = ["EnrichMovies", "LookupTmdbFn", "MovieLookup", "digest_roles", "failure_line", "match_digest",
           "merge_parts", "movie_patch", "part_patch", "review_line"]


def _with_checkpoint(element: tuple[str, dict]) -> Iterable[LookupRequest]:
    """A LookupRequest per selected movie, with the checkpointed hit only if it was made from this very record
    and covers every enricher needed now; otherwise none, and the movie is looked up."""
    key, groups = element
    for record, needed in groups["movie"]:
        hit = next(iter(groups["resumed"]), None)
        yield LookupRequest(key, record, tuple(needed), hit if checkpoint_answers(hit, record, needed) else None)


REVIEW_STATUSES = (AMBIGUOUS, NOT_FOUND, REMOVED)


def review_line(key: str, hit: Lookup) -> dict:
    """One line of the review list: the movie, why it was not matched, its best candidates, how to pin one."""
    return {"key": key, "status": hit.status, "reason": hit.error, **(hit.review or {}),
            "pin": "add \"tmdb_id\": ID to the record, or a line KEY,ID to a --pins file, then rerun"}


def failure_line(key: str, part: EnrichedPart) -> Failure:
    return Failure(key, part.enricher, part.outcome["error"], part.outcome["updated_at"])


def _name(selected: tuple[str, tuple[Any, tuple[str, ...]]], naming: Naming) -> Iterable[tuple[str, str]]:
    """(position key, name) of a selected record whose name is not its key."""
    key, (record, _needed) = selected
    name = naming.name(key, record)
    if name != key:
        yield key, name


class EnrichMovies(beam.PTransform):
    """Looks movies up on TMDB and enriches them with metadata and images, both enrichers in one step.

    Args:
        settings: the TMDB client's settings.
        enrichers: which enrichers to run: ("metadata", "images") or one of them.
        batch_size: movies per lookup batch, and per checkpoint file.
        poster_size, backdrop_size: TMDB image sizes.
        checkpoint_dir: where finished batches are checkpointed, or None.
        field_overrides: (role, field) pairs given with `--field` (see LookupTmdbFn).
        pins, naming: `--pins` and how an array's records are named (see LookupTmdbFn). With a naming, the review
            list, the failures and the keys looked up name each movie by it (`naming.Naming.name`), not by the
            position that keys it in the graph.
        resumed: an optional PCollection of (key, Lookup) read back from checkpoints.
        download: the image download stage (`download.DownloadImages`, `--download_images`), or None.
        per_movie: True: one patch of top-level fields per movie (`merge_parts`, for the JSON file's sink, which
            writes once, at the end). False: one field-level patch per movie (`movie_patch`), which a database
            store's writer applies as each lookup batch's results come.

    Input: (key, (record, needed_enrichers)) for the selected movies, in any number of workers' hands: the
    checkpoint join groups them by key, which spreads them. Output: a dict with `patches`
    ((key, patch) for the sink), `failures` (one `Failure` per failed enrichment), `review` (one dict per movie
    left ambiguous or not found), `looked_up` (the key of every movie looked up) and `matched` ((key, (tmdb id or
    None, name)) of every movie looked up, for `shared.SharedMatches`).
    """

    def __init__(self, settings: TmdbSettings, enrichers: tuple[str, ...], batch_size: int = 200,
                 poster_size: str = "w500", backdrop_size: str = "w1280", checkpoint_dir: str | None = None,
                 resumed=None, client_factory: Callable[[TmdbSettings], Any] = TmdbClient,
                 field_overrides: tuple[tuple[str, str], ...] = (), pins: dict[str, str] | None = None,
                 per_movie: bool = True, naming: Naming | None = None, download: beam.PTransform | None = None):
        super().__init__()
        self._download = download
        self._naming = naming
        self._per_movie = per_movie
        self._client_factory = client_factory
        self._field_overrides = tuple(field_overrides)
        self._pins = dict(pins or {})
        self._settings = settings
        self._enrichers = enrichers
        self._batch_size = batch_size
        self._sizes = (poster_size, backdrop_size)
        self._checkpoint_dir = checkpoint_dir
        self._resumed = resumed

    def expand(self, selected):
        batch = self._batch_size
        resumed = self._resumed if self._resumed is not None else (
            selected.pipeline | "NoCheckpoints" >> beam.Create([]).with_output_types(tuple[str, Lookup]))
        hits = (
            {"movie": selected, "resumed": resumed}
            # The grouping also spreads the movies, read on one worker, over every worker.
            | "JoinCheckpoints" >> beam.CoGroupByKey()
            | "UseCheckpoints" >> beam.FlatMap(_with_checkpoint).with_output_types(LookupRequest)
            # Equal bounds: fixed-size batches, one checkpoint each. GroupIntoBatches would push the whole
            # pipeline off the fast in-process engine (its processing-time timer).
            | "Batch" >> beam.BatchElements(min_batch_size=batch, max_batch_size=batch)
            | "MatchTmdb" >> beam.ParDo(
                LookupTmdbFn(self._settings, self._checkpoint_dir, self._client_factory, self._field_overrides,
                             self._pins, self._naming)))

        # One step runs both enrichers on each hit and keeps a movie's parts together, so no grouping is
        # needed: a Flatten of two branches and a GroupByKey would each be materialised by the local engine,
        # holding every result back until the last lookup (a database store must get each batch's results as
        # soon as they are made) and costing the process several times their encoded size at once.
        movies = hits | "EnrichBoth" >> beam.ParDo(
            EnrichPartsFn(self._settings, self._enrichers, *self._sizes, client_factory=self._client_factory))
        if self._download is not None:
            movies = movies | "DownloadImages" >> self._download
        patches = movies | ("MergeResults" if self._per_movie else "FieldPatches") >> beam.MapTuple(
            merge_parts if self._per_movie else movie_patch)
        parts = movies | "Parts" >> beam.FlatMapTuple(
            lambda key, parts: [(key, part) for part in parts]).with_output_types(tuple[str, EnrichedPart])
        failures = (parts
                    | "Failed" >> beam.Filter(lambda kv: kv[1].outcome["status"] == FAILED)
                    | "FailureLine" >> beam.MapTuple(failure_line))
        review = (hits
                  | "ToReview" >> beam.Filter(lambda kv: kv[1].status in REVIEW_STATUSES)
                  | "ReviewLine" >> beam.MapTuple(review_line))
        looked_up = hits | "LookedUp" >> beam.Keys()
        matched = hits | "Matched" >> beam.MapTuple(now_matched)
        if self._naming is not None and self._naming.parts:
            names = beam.pvalue.AsDict(selected | "Names" >> beam.FlatMap(_name, self._naming))
            review = review | "NameReview" >> beam.Map(
                lambda entry, n: {**entry, "key": n.get(entry["key"], entry["key"])}, names)
            failures = failures | "NameFailures" >> beam.Map(
                lambda failure, n: dataclasses.replace(failure, key=n.get(failure.key, failure.key)), names)
            # Its position too: the line an earlier run listed it under by position is replaced as well.
            looked_up = looked_up | "NameLookedUp" >> beam.FlatMap(lambda key, n: {key, n.get(key, key)}, names)
            matched = matched | "NameMatched" >> beam.Map(
                lambda item, n: (item[0], (item[1][0], n.get(item[0], item[0]))), names)
        return {"patches": patches, "failures": failures, "review": review, "looked_up": looked_up,
                "matched": matched}
