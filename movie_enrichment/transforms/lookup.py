"""The TMDB lookup of each movie: `LookupTmdbFn` resolves a batch of movies to their TMDB details."""

import concurrent.futures
import dataclasses
import logging
import threading
from typing import Any, Callable, Iterable

from apache_beam.metrics import Metrics

from movie_enrichment.io import progress, stop
from movie_enrichment.io.checkpoints import CheckpointStore
from movie_enrichment.io.tmdb import APPEND_FOR, TmdbAuthError, TmdbClient, TmdbError, TmdbSettings, redact
from movie_enrichment.model import FAILED, INVALID, NAMESPACE, NOT_FOUND, OK, REMOVED, STATUSES, Lookup, LookupRequest, now_iso
from movie_enrichment.transforms import extract, fields, matching
from movie_enrichment.transforms.client_fn import ClientDoFn
from movie_enrichment.transforms.naming import Naming, find_named, name_of
from movie_enrichment.transforms.selection import fingerprint

_LOGGER = logging.getLogger(__name__)
# What changed identity in a run, for the report (string sets): "key<TAB>from<TAB>to" per film found again under a
# new id, and the key of each film TMDB removed.
REIDENTIFIED_METRIC, REMOVED_METRIC = "reidentified", "removed"


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


class LookupTmdbFn(ClientDoFn):
    """Resolves each movie of a batch to a TMDB id and fetches its details once, in a bounded thread pool.

    Args:
        settings: the client's `TmdbSettings`.
        checkpoint_dir: when set, each finished batch is written there before its results go on.
        field_overrides: (role, field) pairs given with `--field`; the other roles are detected on each batch
            (a sample of the database), with each record's own fields as fallback.
        pins: `--pins`: name -> "tmdb:ID" or "imdb:ttID"; a pinned movie is looked up by that id alone.
        naming: how the records of an array or JSON Lines file are named in `pins` (`naming.Naming`), or None.

    Input: batches (lists) of `LookupRequest`; a movie with a lookup read back from the checkpoints costs no
    request. Output: (key, `Lookup`) per movie: the match outcome and the trimmed details body that every
    enricher reads. Outcomes other than success are data; only a rejected API key raises, because it dooms every
    other request too.
    """

    def __init__(self, settings: TmdbSettings, checkpoint_dir: str | None = None,
                 client_factory: Callable[[TmdbSettings], Any] = TmdbClient,
                 field_overrides: tuple[tuple[str, str], ...] = (), pins: dict[str, str] | None = None,
                 naming: Naming | None = None):
        super().__init__(settings, client_factory)
        self._checkpoint_dir = checkpoint_dir
        self._field_overrides = dict(field_overrides)
        self._movie = MovieLookup(settings, field_overrides, pins, naming)
        self._digest_roles = fields.input_roles(field_overrides)  # the digest the sink compares
        # Made in setup(): a pool, an open store and an event are no constructor state (any pickler ships it).
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._store: CheckpointStore | None = None
        self._abort: threading.Event | None = None

    def setup(self) -> None:
        super().setup()
        self._abort = threading.Event()
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=max(1, self._settings.max_concurrency), thread_name_prefix="tmdb")
        self._store = CheckpointStore(self._checkpoint_dir) if self._checkpoint_dir else None
        self._outcomes = {s: Metrics.counter(NAMESPACE, f"lookup_{s}")
                          for s in STATUSES}
        self._resumed = Metrics.counter(NAMESPACE, "resumed")
        self._resumed_failed = Metrics.counter(NAMESPACE, "resumed_failed")
        self._reidentified = Metrics.string_set(NAMESPACE, REIDENTIFIED_METRIC)
        self._removed = Metrics.string_set(NAMESPACE, REMOVED_METRIC)

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
        # Asked to stop (SIGTERM, Ctrl-C, cancel): lookups cut short are no outcome to keep; the batches finished
        # before are checkpointed, this one is redone by the rerun.
        stop.check()
        if self._store is not None and hits:
            self._store.write_batch(hits)
        for request, hit in zip(todo, hits):
            self._outcomes[hit.status].inc()
            self._identity_changes(request, hit)
            yield hit.key, hit
        for request, hit in zip((request for request in batch if request.resumed is not None), resumed):
            self._identity_changes(request, hit)
            yield hit.key, hit

    def _identity_changes(self, request: LookupRequest, hit: Lookup) -> None:
        """The report's `reidentified` and `removed`, under the record's name (`naming.name_of`), as the review
        list names it."""
        if hit.previous_tmdb_id is None and hit.status != REMOVED:
            return
        name = name_of(self._movie.naming, hit.key, request.record)
        if hit.previous_tmdb_id is not None:
            self._reidentified.add(f"{name}\t{hit.previous_tmdb_id}\t{hit.tmdb_id}")
        else:
            self._removed.add(name)

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
        stop.check()  # a lookup not started when the process is asked to stop is dropped
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
        field_overrides, pins, naming: as for `LookupTmdbFn`.
    """

    def __init__(self, settings: TmdbSettings, field_overrides: tuple[tuple[str, str], ...] = (),
                 pins: dict[str, str] | None = None, naming: Naming | None = None):
        self._settings = settings
        self._input_roles = fields.input_roles(field_overrides)  # as the Selector reads them
        self._digest_roles = self._input_roles  # the digest the sink compares: the same roles
        self._pins = dict(pins or {})
        self.naming = naming

    def prepare(self, request: LookupRequest, roles: fields.Roles) -> tuple[Lookup, matching.MovieQuery | None]:
        """The movie's outcome so far and its query; for an invalid record, its final outcome and None."""
        key, record, needed = request.key, request.record, request.enrichers
        hit = Lookup(key, fingerprint(record), tuple(needed),
                     prior=record.get("enrichment") if isinstance(record, dict) else None,
                     match_inputs=fields.match_inputs(record, self._input_roles),
                     looked_up=match_digest(key, record, self._digest_roles))
        try:
            pin = find_named(self._pins, self.naming, key, record)[1]
            query, pinned = _query(key, record, roles, pin, hit.match_inputs)
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
                hit = replace(hit, status=OK, tmdb_id=details.get("id"), score=1.0, match=matching.by_id())
            else:
                hit, details = self._match(client, hit, query, append)
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

    def _match(self, client: TmdbClient, hit: Lookup, query: matching.MovieQuery,
               append: tuple[str, ...]) -> tuple[Lookup, dict | None]:
        """The movie's match and its details body (None when there is no film to enrich from)."""
        replace = dataclasses.replace
        result = matching.match_movie(
            query, lambda text, year=None: client.search_movie(text, year, shrink=extract.trim_search),
            client.find_by_imdb, lambda tmdb_id: client.movie_details(tmdb_id, append, shrink=extract.trim_details))
        hit = replace(hit, status=result.status, tmdb_id=result.tmdb_id, score=result.score, error=result.reason,
                      match=result.match)
        if result.status != OK:
            return replace(hit, review=_review(query, result)), None
        details = result.details or client.movie_details(result.tmdb_id, append, shrink=extract.trim_details)
        if details is not None:
            return hit, details
        if hit.pinned:  # a pin is the user's word: never replaced silently, but put before them again
            return replace(hit, status=REMOVED, match=None,
                           error=f"TMDB no longer has movie {result.tmdb_id} (pinned {hit.pinned}): pin another"), None
        if query.matched_id != result.tmdb_id:  # a stale or wrong tmdb_id the user wrote into the record
            return replace(hit, status=NOT_FOUND, match=None, error=f"TMDB has no movie {result.tmdb_id}"), None
        return self._find_again(client, hit, query, append)

    def _find_again(self, client: TmdbClient, hit: Lookup, query: matching.MovieQuery,
                    append: tuple[str, ...]) -> tuple[Lookup, dict | None]:
        """A film matched earlier that TMDB no longer has (deleted, or merged into another id): looked for as a new
        record would be, by its IMDb id (the record's, else the one TMDB gave it), then its title and year. Found,
        it is the film's new identity (`previous_tmdb_id`); else the movie is `removed` and keeps its data."""
        gone = query.matched_id
        again = dataclasses.replace(query, tmdb_id=None, imdb_id=query.imdb_id or query.matched_imdb_id,
                                    matched_id=None, matched_imdb_id=None)
        found, details = self._match(client, dataclasses.replace(hit, pinned=None), again, append)
        if found.status == OK and found.tmdb_id != gone:
            _LOGGER.info("%s: TMDB no longer has movie %s; found again as %s", hit.key, gone, found.tmdb_id)
            return dataclasses.replace(found, pinned=hit.pinned, previous_tmdb_id=gone), details
        why = "not found again by IMDb id nor title and year" if found.status != FAILED else f"({found.error})"
        return dataclasses.replace(hit, status=REMOVED if found.status != FAILED else FAILED, tmdb_id=gone,
                                   score=None, match=None, review=found.review,
                                   error=f"TMDB no longer has movie {gone}; {why}"), None


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


REVIEW_POSTER_SIZE = "w185"


def _review(query: matching.MovieQuery, result: matching.MatchResult) -> dict:
    """What a person needs to pick the film: the record's inputs, the searches made, the best candidates.

    A candidate's `poster` is its URL on TMDB's image host, and `poster_path` the file, from which a page builds
    the URL on the image host its own TMDB names (the console does, with the bundled server's images): a lookup
    asks for no /configuration, which a run without the images enricher never reads."""
    return {"title": query.title, "year": query.year, "directors": list(query.directors),
            "searched": list(result.searches),
            "candidates": [{"tmdb_id": c.tmdb_id, "title": c.title, "year": c.year, "directors": list(c.directors),
                            "poster": extract.image_url(extract.DEFAULT_IMAGE_BASE, REVIEW_POSTER_SIZE,
                                                        c.poster_path),
                            "poster_path": c.poster_path or None,
                            "score": c.score, "why_not": c.why_not} for c in result.candidates]}
