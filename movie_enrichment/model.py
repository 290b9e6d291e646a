"""The project's vocabulary, importable from every layer: outcome statuses, enrichers, the metrics namespace
and the time format of the records' `updated_at`."""

import dataclasses
import datetime
from typing import Any

# Of every Beam counter the pipeline keeps, which the report and the progress read back.
NAMESPACE = "movie_enrichment"

ENRICHERS = ("metadata", "images")

# An enrichment's outcome, as each record says it in `enrichment.<enricher>.status`.
OK, NOT_FOUND, AMBIGUOUS, FAILED, INVALID = "ok", "not_found", "ambiguous", "failed", "invalid"
STATUSES = (OK, NOT_FOUND, AMBIGUOUS, FAILED, INVALID)


def now_iso() -> str:
    """Now in UTC, to the second, as the records' `updated_at` and the report write it: 2026-01-31T12:00:00Z."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


# What flows between the steps. Frozen dataclasses: Beam encodes them with its fallback coder (a NamedTuple or
# a plain dataclass would be taken for a schema row, which a record of any shape cannot be).

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
    resumed: dict | None = None
