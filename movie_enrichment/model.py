"""The project's vocabulary, importable from every layer: outcome statuses, enrichers, the metrics namespace
and the time format of the records' `updated_at`."""

import datetime

# Of every Beam counter the pipeline keeps, which the report and the progress read back.
NAMESPACE = "movie_enrichment"

ENRICHERS = ("metadata", "images")

# An enrichment's outcome, as each record says it in `enrichment.<enricher>.status`.
OK, NOT_FOUND, AMBIGUOUS, FAILED, INVALID = "ok", "not_found", "ambiguous", "failed", "invalid"
STATUSES = (OK, NOT_FOUND, AMBIGUOUS, FAILED, INVALID)


def now_iso() -> str:
    """Now in UTC, to the second, as the records' `updated_at` and the report write it: 2026-01-31T12:00:00Z."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
