"""Which movies a run enriches, and with which enrichers: the `--reprocess` and `--titles` rules."""

import dataclasses
import datetime
import hashlib
import json
from typing import Any, Iterable

import apache_beam as beam
import orjson

from movie_enrichment.io import progress

ENRICHERS = ("metadata", "images")
OWN_FIELDS = ("tmdb", "images", "enrichment")  # what this tool writes into a record

REPROCESS_MODES = ("missing", "failed", "not_found", "stale", "changed", "all")
# The modes that ask TMDB again about movies it already answered for: they bypass the HTTP cache.
REFRESH_MODES = ("not_found", "stale", "changed", "all")
OK, NOT_FOUND, AMBIGUOUS, FAILED, INVALID = "ok", "not_found", "ambiguous", "failed", "invalid"


def fingerprint(record: Any) -> str:
    """A digest of the user's own fields, so a checkpoint is reused only for the record it was made from."""
    own = {k: v for k, v in record.items() if k not in OWN_FIELDS} if isinstance(record, dict) else record
    try:
        data = orjson.dumps(own, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:  # deeper than orjson goes, or a huge integer
        data = json.dumps(own, sort_keys=True).encode("utf-8")
    return hashlib.blake2b(data, digest_size=12).hexdigest()


def checkpoint_answers(hit: dict | None, record: Any, needed: tuple[str, ...]) -> bool:
    """Whether a checkpointed lookup can stand for this record now: made from this very record (same
    fingerprint) and covering every enricher it needs."""
    return hit is not None and hit["fingerprint"] == fingerprint(record) and set(needed) <= set(hit["enrichers"])


def parse_time(value: Any) -> datetime.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


@dataclasses.dataclass(frozen=True)
class Selector:
    """Decides, per record, which enrichers to run.

    Args:
        enrichers: the requested enrichers (`--enrich`).
        mode: one of REPROCESS_MODES (`--reprocess`).
        stale_before: with mode `stale`, outcomes older than this are redone.
        titles: with `--titles`, only these keys (or record titles) are considered.
        changed_ids: with mode `changed`, the TMDB ids that TMDB lists as edited since the oldest enrichment:
            the movies enriched (`ok`) with one of these ids are redone.
    """

    enrichers: tuple[str, ...] = ENRICHERS
    mode: str = "missing"
    stale_before: datetime.datetime | None = None
    titles: frozenset[str] | None = None
    changed_ids: frozenset[int] = frozenset()

    def _wanted(self, outcome: Any) -> bool:
        status = outcome.get("status") if isinstance(outcome, dict) else None
        if self.mode == "all":
            return True
        if self.mode == "missing":
            # No outcome yet, or a transient failure; a definite not_found is redone only when asked.
            return status is None or status == FAILED
        if self.mode == "failed":
            return status == FAILED
        if self.mode == "not_found":
            return status in (NOT_FOUND, AMBIGUOUS)
        if self.mode == "changed":
            return False  # decided in needed(), from the record's TMDB id
        if self.mode == "stale":
            when = parse_time(outcome.get("updated_at")) if isinstance(outcome, dict) else None
            return status is None or when is None or (self.stale_before is not None and when < self.stale_before)
        raise ValueError(f"unknown reprocess mode: {self.mode}")

    def needed(self, key: str, record: Any) -> tuple[str, ...]:
        """The enrichers this record needs in this run; empty when it passes through untouched."""
        if self.titles is not None:
            title = record.get("title") if isinstance(record, dict) else None
            if key not in self.titles and not (isinstance(title, str) and title in self.titles):
                return ()
        if not isinstance(record, dict):
            return ()  # kept as it is; nothing can be recorded in it
        done = record.get("enrichment") if isinstance(record.get("enrichment"), dict) else {}
        if self.mode == "changed":
            if enriched_tmdb_id(record) not in self.changed_ids:
                return ()
            return tuple(e for e in self.enrichers if isinstance(done.get(e), dict) and done[e].get("status") == OK)
        return tuple(e for e in self.enrichers if self._wanted(done.get(e)))


def enriched_tmdb_id(record: dict) -> int | None:
    """The TMDB id a record was enriched with (its `tmdb` block), else the one the user gave."""
    for value in ((record.get("tmdb") or {}).get("id") if isinstance(record.get("tmdb"), dict) else None,
                  record.get("tmdb_id")):
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def oldest_update(items: Iterable[tuple[str, Any]], enrichers: tuple[str, ...]) -> datetime.datetime | None:
    """The oldest `updated_at` of the successful enrichments: TMDB's edits since then may concern them."""
    oldest = None
    for _, record in items:
        done = record.get("enrichment") if isinstance(record, dict) else None
        for enricher in enrichers if isinstance(done, dict) else ():
            outcome = done.get(enricher)
            if isinstance(outcome, dict) and outcome.get("status") == OK:
                when = parse_time(outcome.get("updated_at"))
                if when is not None and (oldest is None or when < oldest):
                    oldest = when
    return oldest


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


def read_titles(lines: Iterable[str]) -> frozenset[str]:
    """One key per line; blank lines and lines starting with # are skipped."""
    return frozenset(s for s in (line.strip() for line in lines) if s and not s.startswith("#"))
