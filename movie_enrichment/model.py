"""The project's vocabulary, importable from every layer: outcome statuses, enrichers, the metrics namespace,
the time format of the records' `updated_at`, the form of a run's id, and the elements that flow between the
pipeline's steps."""

import dataclasses
import datetime
import os
from typing import Any

# Of every Beam counter the pipeline keeps, which the report and the progress read back.
NAMESPACE = "movie_enrichment"

ENRICHERS = ("metadata", "images")

# An enrichment's outcome, as each record says it in `enrichment.<enricher>.status`.
OK, NOT_FOUND, AMBIGUOUS, FAILED, INVALID = "ok", "not_found", "ambiguous", "failed", "invalid"
# A film matched earlier that TMDB no longer has (its details answer 404) and that could not be found again: the
# record keeps its last TMDB data.
REMOVED = "removed"
STATUSES = (OK, NOT_FOUND, AMBIGUOUS, FAILED, INVALID, REMOVED)


def now_iso(timespec: str = "seconds") -> str:
    """Now in UTC as ISO 8601 text ending in Z: the one time format of everything this program writes.

    Args:
        timespec: "seconds" (the default) for the records' `updated_at`, the report and a lock's holder
            (2026-01-31T12:00:00Z); "milliseconds" for the progress file and the run handles, which change
            several times a second; "microseconds" for a store's history, whose runs are ordered by it.
    """
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec=timespec).replace("+00:00", "Z")


def new_run_id() -> str:
    """A run's name, as its report, progress file and a store's history carry it: sortable by start time,
    unique enough for one machine (20261201T061631Z-341826)."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ-") + os.urandom(3).hex()


# What flows between the steps. Frozen dataclasses: Beam encodes them with its fallback coder (a NamedTuple or
# a plain dataclass would be taken for a schema row, which a record of any shape cannot be).

@dataclasses.dataclass(frozen=True)
class Lookup:
    """A movie's TMDB lookup: the match outcome and the trimmed details body that every enricher reads. A batch
    of them is what a checkpoint file keeps (`io.checkpoints`), less the record's context (`prior`,
    `looked_up`), which a rerun takes from the record again.

    Args:
        key: the record's key in the database.
        fingerprint: a digest of the record's own fields (`selection.fingerprint`): a checkpointed lookup
            stands only for the very record it was made from.
        enrichers: the enrichers it was made for (the details requested cover these).
        status: one of STATUSES.
        tmdb_id, score: the film matched and how well, when one was.
        error: why there is no match, or what failed.
        details: TMDB's details body, trimmed to what the enrichers read, when status is OK.
        updated_at: when it was made (`now_iso`).
        match_inputs: the digest of what the match was made from (`fields.match_inputs`).
        pinned: the pin it honours ("tmdb:603", "imdb:tt0133093"), else None.
        review: for an ambiguous or not-found movie, what a person needs to pick the film.
        prior: the record's `enrichment` entries before this run.
        looked_up: the digest the sink compares (`enrich.match_digest`).
        match: for OK, why this film (`matching.explain`: score, signals, runner-up).
        previous_tmdb_id: for OK, the id the film had before TMDB removed it (found again under another id).
    """

    key: str
    fingerprint: str
    enrichers: tuple[str, ...]
    status: str = OK
    tmdb_id: int | None = None
    score: float | None = None
    error: str | None = None
    details: dict | None = None
    updated_at: str | None = None
    match_inputs: str | None = None
    pinned: str | None = None
    review: dict | None = None
    prior: Any = None
    looked_up: str | None = None
    match: dict | None = None
    previous_tmdb_id: int | None = None


@dataclasses.dataclass(frozen=True)
class LookupRequest:
    """A selected movie on its way to the TMDB lookup, after the join with the checkpoints.

    Args:
        key: the record's key in the database.
        record: the record as the database holds it.
        enrichers: the enrichers it needs in this run.
        resumed: a checkpointed lookup made from this very record that covers those enrichers (no request is
            made for it), else None.
    """

    key: str
    record: Any
    enrichers: tuple[str, ...]
    resumed: Lookup | None = None


@dataclasses.dataclass(frozen=True)
class EnrichedPart:
    """One enricher's result for a movie: the block it writes and the outcome it records.

    Args:
        enricher: one of ENRICHERS.
        field: the record's field the block goes into (`tmdb`, `images`).
        value: the block, or None when there is none.
        outcome: the record's `enrichment.<enricher>` entry: status, updated_at, error, and what the match was
            made from.
        prior: the record's `enrichment` entries before this run (a failure never erases an earlier success).
        looked_up: the digest the sink compares (`enrich.match_digest`).
    """

    enricher: str
    field: str
    value: Any
    outcome: dict
    prior: Any = None
    looked_up: str | None = None


@dataclasses.dataclass(frozen=True)
class Failure:
    """A failed enrichment, one line of the failures list (its fields in this order)."""

    key: str
    enricher: str
    error: str | None
    time: str
