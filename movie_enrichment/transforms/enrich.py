"""The enrichment DoFns: a batched TMDB lookup, then metadata and image enrichment of each hit in one step."""

import concurrent.futures
import dataclasses
import logging
import threading
from typing import Any, Callable, Iterable

import apache_beam as beam
from apache_beam.metrics import Metrics

from movie_enrichment.io import progress
from movie_enrichment.io.checkpoints import CheckpointStore
from movie_enrichment.io.sink import LOOKED_UP
from movie_enrichment.io.tmdb import APPEND_FOR, TmdbAuthError, TmdbClient, TmdbError, TmdbSettings, redact
from movie_enrichment.model import (
    AMBIGUOUS,
    FAILED,
    INVALID,
    NAMESPACE,
    NOT_FOUND,
    OK,
    STATUSES,
    EnrichedPart,
    Failure,
    Lookup,
    LookupRequest,
    now_iso,
)
from movie_enrichment.transforms import extract, fields, matching
from movie_enrichment.transforms.selection import checkpoint_answers, fingerprint

_LOGGER = logging.getLogger(__name__)


def match_digest(key: str, record: Any, roles: fields.Roles = fields.DEFAULT_ROLES) -> str:
    """A digest of what the lookup of a record reads (`fields.match_inputs`: its title, year, directors and ids
    fields). Each patch carries it (`sink.LOOKED_UP`), and the graph gives the sink this function: where another
    program changed the database during the run, a result is attached only to a record whose digest is the same.
    The key is left out: a record under another key is another record to the sink anyway.
    """
    return fields.match_inputs(record, roles)


def digest_roles(field_overrides: Iterable[tuple[str, str]] = ()) -> fields.Roles:
    """The roles `match_digest` reads with (`fields.input_roles`): the same for every batch and for the sink."""
    return fields.input_roles(field_overrides)



class _ClientDoFn(beam.DoFn):
    """Holds one TmdbClient per DoFn instance: opened in setup(), closed in teardown().

    `client_factory` builds the client from the settings; tests pass a fake.
    """

    def __init__(self, settings: TmdbSettings, client_factory: Callable[[TmdbSettings], Any] = TmdbClient):
        self._settings = settings
        self._client_factory = client_factory
        self._client: TmdbClient | None = None
        self._reported: dict[str, int] = {}
        self._counters: dict[str, Any] = {}

    def setup(self) -> None:
        self._client = self._client_factory(self._settings)
        self._client.open()
        self._reported = {}
        names = ("requests", "retries", "throttled", "request_errors", "cache_hits")
        self._counters = {name: Metrics.counter(NAMESPACE, name) for name in names}

    def teardown(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _report_requests(self) -> None:
        """Moves the client's thread-shared counts into Beam counters, from the bundle's own thread."""
        stats = self._client.stats.snapshot()
        stats["request_errors"] = stats.pop("errors")
        for name, value in stats.items():
            delta = value - self._reported.get(name, 0)
            if delta:
                self._counters[name].inc(delta)
            self._reported[name] = value


class LookupTmdbFn(_ClientDoFn):
    """Resolves each movie of a batch to a TMDB id and fetches its details once, in a bounded thread pool.

    Args:
        settings: the client's `TmdbSettings`.
        checkpoint_dir: when set, each finished batch is written there before its results go on.
        field_overrides: (role, field) pairs given with `--field`; the other roles are detected on each batch
            (a sample of the database), with each record's own fields as fallback.
        pins: `--pins`: key -> "tmdb:ID" or "imdb:ttID"; a pinned movie is looked up by that id alone.

    Input: batches (lists) of `LookupRequest`; a movie with a lookup read back from the checkpoints costs no
    request. Output: (key, `Lookup`) per movie: the match outcome and the trimmed details body that every
    enricher reads. Outcomes other than success are data; only a rejected API key raises, because it dooms every
    other request too.
    """

    def __init__(self, settings: TmdbSettings, checkpoint_dir: str | None = None,
                 client_factory: Callable[[TmdbSettings], Any] = TmdbClient,
                 field_overrides: tuple[tuple[str, str], ...] = (), pins: dict[str, str] | None = None):
        super().__init__(settings, client_factory)
        self._checkpoint_dir = checkpoint_dir
        self._field_overrides = dict(field_overrides)
        self._movie = MovieLookup(settings, field_overrides, pins)
        self._digest_roles = fields.input_roles(field_overrides)  # the digest the sink compares
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._store: CheckpointStore | None = None
        self._abort = threading.Event()

    def setup(self) -> None:
        super().setup()
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=max(1, self._settings.max_concurrency), thread_name_prefix="tmdb")
        self._store = CheckpointStore(self._checkpoint_dir) if self._checkpoint_dir else None
        self._outcomes = {s: Metrics.counter(NAMESPACE, f"lookup_{s}")
                          for s in STATUSES}
        self._resumed = Metrics.counter(NAMESPACE, "resumed")
        self._resumed_failed = Metrics.counter(NAMESPACE, "resumed_failed")

    def teardown(self) -> None:
        if self._pool is not None:
            # Wait for the threads, so none of them outlives the client it uses.
            self._abort.set()
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        super().teardown()

    def process(self, batch: list[LookupRequest]) -> Iterable[tuple[str, Lookup]]:
        progress.mark("enriching")
        resumed = [self._reuse(request) for request in batch if request.resumed is not None]
        todo = [request for request in batch if request.resumed is None]
        roles = fields.detect_roles((request.record for request in todo), self._field_overrides)
        hits = list(self._pool.map(lambda request: self._lookup(request, roles), todo))
        self._report_requests()
        if self._store is not None and hits:
            self._store.write_batch(hits)
        for hit in hits:
            self._outcomes[hit.status].inc()
            yield hit.key, hit
        yield from ((hit.key, hit) for hit in resumed)

    def _reuse(self, request: LookupRequest) -> Lookup:
        """A lookup read back from the checkpoints of an interrupted run: no request. The record's context
        (what it needs now, its earlier outcomes, the sink's digest) is taken from the record."""
        record, needed, hit = request.record, request.enrichers, request.resumed
        self._resumed.inc()
        if hit.status == FAILED:
            self._resumed_failed.inc()
        progress.add(done=1, failed=int(hit.status == FAILED))
        return dataclasses.replace(hit, enrichers=tuple(needed), prior=record.get("enrichment"),
                                   looked_up=match_digest(request.key, record, self._digest_roles))

    def finish_bundle(self) -> None:
        progress.TRACKER.flush()

    def _lookup(self, request: LookupRequest, roles: fields.Roles) -> Lookup:
        if self._abort.is_set():
            raise self._settings.rejected()
        hit, query = self._movie.prepare(request, roles)
        if query is None:  # an invalid record: no request
            progress.add(done=1)
            return hit
        try:
            return self._movie.fetch(self._client, hit, query)
        except TmdbAuthError:
            self._abort.set()  # every other request of the run would be refused the same way
            raise


class MovieLookup:
    """The lookup of one movie, apart from the DoFn: `prepare` what it is made from (no request), then `fetch` its
    answers.

    Args:
        settings: the client's `TmdbSettings`.
        field_overrides, pins: as for `LookupTmdbFn`.
    """

    def __init__(self, settings: TmdbSettings, field_overrides: tuple[tuple[str, str], ...] = (),
                 pins: dict[str, str] | None = None):
        self._settings = settings
        self._input_roles = fields.input_roles(field_overrides)  # as the Selector reads them
        self._digest_roles = self._input_roles  # the digest the sink compares: the same roles
        self._pins = dict(pins or {})

    def prepare(self, request: LookupRequest, roles: fields.Roles) -> tuple[Lookup, matching.MovieQuery | None]:
        """The movie's outcome so far and its query; for an invalid record, its final outcome and None."""
        key, record, needed = request.key, request.record, request.enrichers
        hit = Lookup(key, fingerprint(record), tuple(needed),
                     prior=record.get("enrichment") if isinstance(record, dict) else None,
                     match_inputs=fields.match_inputs(record, self._input_roles),
                     looked_up=match_digest(key, record, self._digest_roles))
        try:
            query, pinned = _query(key, record, roles, self._pins.get(key), hit.match_inputs)
        except matching.InvalidRecord as error:
            return dataclasses.replace(hit, status=INVALID, error=str(error), updated_at=now_iso()), None
        return dataclasses.replace(hit, pinned=pinned), query

    def fetch(self, client: TmdbClient, hit: Lookup, query: matching.MovieQuery) -> Lookup:
        """Matches the movie and fetches its details; raises only TmdbAuthError (every other failure is the
        movie's outcome)."""
        replace = dataclasses.replace
        append = tuple(part for enricher in hit.enrichers for part in APPEND_FOR[enricher])
        try:
            # Trimmed as they arrive: the HTTP cache keeps only what matching and the enrichers read.
            details = None
            if query.tmdb_id is None and query.imdb_id is not None:
                # An IMDb id is a pin: its film in one request (TMDB's /movie/{id} takes IMDb ids).
                details = client.movie_details_by_imdb(query.imdb_id, append, shrink=extract.trim_details)
                query = dataclasses.replace(query, imdb_id=None)
            if details is not None:
                hit = replace(hit, status=OK, tmdb_id=details.get("id"), score=1.0)
            else:
                result = matching.match_movie(
                    query, lambda text, year=None: client.search_movie(text, year, shrink=extract.trim_search),
                    client.find_by_imdb,
                    lambda tmdb_id: client.movie_details(tmdb_id, append, shrink=extract.trim_details))
                hit = replace(hit, status=result.status, tmdb_id=result.tmdb_id, score=result.score,
                              error=result.reason)
                if result.status == OK:
                    details = result.details or client.movie_details(result.tmdb_id, append,
                                                                     shrink=extract.trim_details)
                    if details is None:  # a stale or wrong tmdb_id in the record
                        hit = replace(hit, status=NOT_FOUND, error=f"TMDB has no movie {result.tmdb_id}")
                else:
                    hit = replace(hit, review=_review(query, result))
            if details is not None:
                hit = replace(hit, details=extract.trim_details(details))  # idempotent; any client trims it
        except TmdbAuthError:
            raise
        except TmdbError as error:
            hit = replace(hit, status=FAILED, error=redact(str(error), self._settings.api_key))
        except Exception as error:  # pylint: disable=broad-except
            # One odd movie (an unexpected body, a bug) must not fail the run: it is kept and listed.
            _LOGGER.warning("Lookup of %r failed: %s", hit.key, redact(repr(error), self._settings.api_key))
            hit = replace(hit, status=FAILED,
                          error=redact(f"{type(error).__name__}: {error}", self._settings.api_key))
        hit = replace(hit, updated_at=now_iso())
        progress.add(done=1, failed=int(hit.status == FAILED))
        return hit


def _query(key: str, record: Any, roles: fields.Roles, pin: str | None,
           digest: str) -> tuple[matching.MovieQuery, str | None]:
    """The movie's query and the pin it carries (`--pins`, kept in the outcome so that it is never re-matched).

    The film an earlier run matched is looked up again by id unless the user changed the match inputs since
    (then it may be the wrong film they are correcting); a pin from `--pins` wins over everything, and a pin
    given earlier holds until an id written into the record replaces it."""
    outcomes = [o for o in (record.get("enrichment") or {}).values() if isinstance(o, dict)] \
        if isinstance(record, dict) and isinstance(record.get("enrichment"), dict) else []
    pinned_before = next((o["pinned"] for o in outcomes if o.get("pinned")), None)
    changed = any(o.get("match_inputs") not in (None, digest) for o in outcomes)
    if changed and not pinned_before and isinstance(record, dict):
        record = {k: v for k, v in record.items() if k != "tmdb"}
    query = matching.query_from_record(key, record, roles)
    if pin is not None:
        kind, _, value = pin.partition(":")
        pinned_id = {"tmdb_id": int(value), "imdb_id": None} if kind == "tmdb" else {"tmdb_id": None, "imdb_id": value}
        return dataclasses.replace(query, **pinned_id), pin
    own_id = roles.value(fields.TMDB_ID, record)[1] or roles.value(fields.IMDB_ID, record)[1]
    return query, (pinned_before if own_id is None else None)


POSTER_BASE = "https://image.tmdb.org/t/p/w185"


def _review(query: matching.MovieQuery, result: matching.MatchResult) -> dict:
    """What a person needs to pick the film: the record's inputs, the searches made, the best candidates."""
    return {"title": query.title, "year": query.year, "directors": list(query.directors),
            "searched": list(result.searches),
            "candidates": [{"tmdb_id": c.tmdb_id, "title": c.title, "year": c.year, "directors": list(c.directors),
                            "poster": f"{POSTER_BASE}{c.poster_path}" if c.poster_path else None,
                            "score": c.score, "why_not": c.why_not} for c in result.candidates]}


def _outcome(hit: Lookup, extra: dict | None = None) -> dict:
    """The record's `enrichment.<enricher>` entry for a lookup."""
    outcome = {"status": hit.status, "updated_at": hit.updated_at or now_iso(), "error": hit.error}
    if hit.status == OK:
        outcome["error"] = None
    # What the match was made from (the next run looks the movie up again when the user changes it) and the
    # pin it honours; lookups read back from an older checkpoint may have neither.
    if hit.match_inputs:
        outcome["match_inputs"] = hit.match_inputs
    if hit.pinned:
        outcome["pinned"] = hit.pinned
    outcome.update(extra or {})
    return outcome


class EnrichMetadataFn(beam.DoFn):
    """Builds the `tmdb` block of a looked-up movie. Input: (key, Lookup); output: (key, EnrichedPart)."""

    def setup(self) -> None:
        self._counters = {s: Metrics.counter(NAMESPACE, f"metadata_{s}")
                          for s in STATUSES}

    def process(self, element: tuple[str, Lookup]) -> Iterable[tuple[str, EnrichedPart]]:
        key, hit = element
        value = extract.metadata_block(hit.details) if hit.status == OK else None
        self._counters[hit.status].inc()
        score = round(hit.score, 4) if isinstance(hit.score, (int, float)) else None
        yield key, EnrichedPart("metadata", "tmdb", value, _outcome(hit, {"match_score": score}), hit.prior,
                                hit.looked_up)


_CONFIGURATION: dict[str, dict] = {}
_CONFIGURATION_LOCK = threading.Lock()


class EnrichImagesFn(_ClientDoFn):
    """Builds the `images` block from the looked-up details and /configuration, fetched once per worker process.

    Args:
        settings: the client's `TmdbSettings`.
        poster_size, backdrop_size: TMDB image sizes (`--poster_size`, `--backdrop_size`).

    Input: (key, Lookup); output: (key, EnrichedPart).
    """

    def __init__(self, settings: TmdbSettings, poster_size: str = "w500", backdrop_size: str = "w1280",
                 client_factory: Callable[[TmdbSettings], Any] = TmdbClient):
        super().__init__(settings, client_factory)
        self._poster_size = poster_size
        self._backdrop_size = backdrop_size

    def setup(self) -> None:
        super().setup()
        self._outcomes = {s: Metrics.counter(NAMESPACE, f"images_{s}")
                          for s in STATUSES}

    def _image_base(self) -> str:
        # Module-level, so every DoFn instance of this process shares one /configuration request.
        configuration = _CONFIGURATION.get(self._settings.base_url)
        if configuration is not None:
            return extract.image_base(configuration)
        with _CONFIGURATION_LOCK:
            configuration = _CONFIGURATION.get(self._settings.base_url)
            if configuration is None:
                configuration = self._client.configuration()
                _CONFIGURATION[self._settings.base_url] = configuration
                self._report_requests()
        return extract.image_base(configuration)

    def process(self, element: tuple[str, Lookup]) -> Iterable[tuple[str, EnrichedPart]]:
        key, hit = element
        value = None
        if hit.status == OK:
            try:
                value = extract.images_block(hit.details, self._image_base(), self._poster_size,
                                             self._backdrop_size)
            except TmdbAuthError:
                raise
            except TmdbError as error:
                hit = dataclasses.replace(hit, status=FAILED, error=f"configuration: {error}")
        self._outcomes[hit.status].inc()
        yield key, EnrichedPart("images", "images", value, _outcome(hit), hit.prior, hit.looked_up)


class _EnrichersFn(beam.DoFn):
    """Runs several enricher DoFns, each on the hits that need it, as one step (see EnrichMovies).

    Input: (key, Lookup). Output: (key, [EnrichedPart, ...]) per movie, so that a movie's parts stay together
    without a grouping.
    """

    def __init__(self, fns: list[beam.DoFn]):
        self._fns = [(fn, "metadata" if isinstance(fn, EnrichMetadataFn) else "images") for fn in fns]

    def setup(self) -> None:
        for fn, _ in self._fns:
            fn.setup()

    def process(self, element: tuple[str, Lookup]) -> Iterable[tuple[str, list[EnrichedPart]]]:
        parts = [part for fn, enricher in self._fns if enricher in element[1].enrichers
                 for _, part in fn.process(element)]
        if parts:
            yield element[0], parts

    def teardown(self) -> None:
        for fn, _ in self._fns:
            if hasattr(fn, "teardown"):
                fn.teardown()


def _with_checkpoint(element: tuple[str, dict]) -> Iterable[LookupRequest]:
    """A LookupRequest per selected movie, with the checkpointed hit only if it was made from this very record
    and covers every enricher needed now; otherwise none, and the movie is looked up."""
    key, groups = element
    for record, needed in groups["movie"]:
        hit = next(iter(groups["resumed"]), None)
        yield LookupRequest(key, record, tuple(needed), hit if checkpoint_answers(hit, record, needed) else None)


def part_patch(key: str, part: EnrichedPart) -> tuple[str, dict]:
    """One enricher's part as a field-level patch: its block (`tmdb` or `images`) and `enrichment.<enricher>`.

    A transient failure never erases an earlier success: the patch is empty, the old data and status stay, and
    the failure is still reported. A definite not_found or ambiguous answer clears the old block, which was
    then wrong. An invalid record gets its outcome only. Stores that write per lookup batch apply these patches
    as they come, with no grouping of a movie's parts.
    """
    prior = part.prior if isinstance(part.prior, dict) else {}
    previous = prior.get(part.enricher) if isinstance(prior.get(part.enricher), dict) else {}
    status = part.outcome["status"]
    if status == FAILED and previous.get("status") == OK:
        return key, {}
    patch: dict[str, Any] = {}
    if status != INVALID:
        patch[part.field] = part.value
    patch[f"enrichment.{part.enricher}"] = part.outcome
    return key, patch


def movie_patch(key: str, parts: Iterable[EnrichedPart]) -> tuple[str, dict]:
    """One movie's parts as one field-level patch: the blocks (`images`, `tmdb`), then the `enrichment.<name>`
    entries, the parts taken in a fixed order (by enricher name) so that the fields' order in the output does
    not depend on which enricher finished first. A database store applies it in one transaction."""
    fields: dict[str, Any] = {}
    for part in sorted(parts, key=lambda p: p.enricher):
        fields.update(part_patch(key, part)[1])
    blocks = {path: value for path, value in fields.items() if "." not in path}
    entries = {path: value for path, value in fields.items() if "." in path}
    return key, {**blocks, **entries}


def merge_parts(key: str, parts: Iterable[EnrichedPart]) -> tuple[str, dict]:
    """One movie's parts as a patch of top-level fields, for the JSON file's sink: `movie_patch` with the
    `enrichment` entries set into the record's previous `enrichment`."""
    parts = list(parts)
    prior = next((p.prior for p in parts if isinstance(p.prior, dict)), None) or {}
    enrichment = dict(prior)
    patch: dict[str, Any] = {}
    for path, value in movie_patch(key, parts)[1].items():
        field, _, enricher = path.partition(".")
        if enricher:
            enrichment[enricher] = value
        else:
            patch[field] = value
    patch["enrichment"] = enrichment
    looked_up = next((p.looked_up for p in parts if p.looked_up), None)
    if looked_up:
        patch[LOOKED_UP] = looked_up
    return key, patch


REVIEW_STATUSES = (AMBIGUOUS, NOT_FOUND)


def review_line(key: str, hit: Lookup) -> dict:
    """One line of the review list: the movie, why it was not matched, its best candidates, how to pin one."""
    return {"key": key, "status": hit.status, "reason": hit.error, **(hit.review or {}),
            "pin": "add \"tmdb_id\": ID to the record, or a line KEY,ID to a --pins file, then rerun"}


def failure_line(key: str, part: EnrichedPart) -> Failure:
    return Failure(key, part.enricher, part.outcome["error"], part.outcome["updated_at"])


class EnrichMovies(beam.PTransform):
    """Looks movies up on TMDB and enriches them with metadata and images, both enrichers in one step.

    Args:
        settings: the TMDB client's settings.
        enrichers: which enrichers to run: ("metadata", "images") or one of them.
        batch_size: movies per lookup batch, and per checkpoint file.
        poster_size, backdrop_size: TMDB image sizes.
        checkpoint_dir: where finished batches are checkpointed, or None.
        field_overrides: (role, field) pairs given with `--field` (see LookupTmdbFn).
        pins: `--pins` (see LookupTmdbFn).
        resumed: an optional PCollection of (key, Lookup) read back from checkpoints.
        per_movie: True: one patch of top-level fields per movie (`merge_parts`, for the JSON file's sink, which
            writes once, at the end). False: one field-level patch per movie (`movie_patch`), which a database
            store's writer applies as each lookup batch's results come.

    Input: (key, (record, needed_enrichers)) for the selected movies, in any number of workers' hands: the
    checkpoint join groups them by key, which spreads them. Output: a dict with `patches`
    ((key, patch) for the sink), `failures` (one `Failure` per failed enrichment), `review` (one dict per movie
    left ambiguous or not found) and `looked_up` (the key of every movie looked up).
    """

    def __init__(self, settings: TmdbSettings, enrichers: tuple[str, ...], batch_size: int = 200,
                 poster_size: str = "w500", backdrop_size: str = "w1280", checkpoint_dir: str | None = None,
                 resumed=None, client_factory: Callable[[TmdbSettings], Any] = TmdbClient,
                 field_overrides: tuple[tuple[str, str], ...] = (), pins: dict[str, str] | None = None,
                 per_movie: bool = True):
        super().__init__()
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
                             self._pins)))

        metadata_fn = EnrichMetadataFn() if "metadata" in self._enrichers else None
        images_fn = EnrichImagesFn(self._settings, *self._sizes, client_factory=self._client_factory) \
            if "images" in self._enrichers else None
        # One step runs both enrichers on each hit and keeps a movie's parts together, so no grouping is
        # needed: a Flatten of two branches and a GroupByKey would each be materialised by the local engine,
        # holding every result back until the last lookup (a database store must get each batch's results as
        # soon as they are made) and costing the process several times their encoded size at once.
        movies = hits | "EnrichBoth" >> beam.ParDo(_EnrichersFn([fn for fn in (metadata_fn, images_fn) if fn]))
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
        return {"patches": patches, "failures": failures, "review": review, "looked_up": looked_up}
