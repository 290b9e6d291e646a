"""A movie's enriched parts as the patches the sinks apply: per part, per movie (field paths), or merged into
top-level fields for the JSON file."""

from typing import Any, Iterable

from movie_enrichment.io.sink import LOOKED_UP
from movie_enrichment.model import FAILED, INVALID, OK, REMOVED, EnrichedPart


def part_patch(key: str, part: EnrichedPart) -> tuple[str, dict]:
    """One enricher's part as a field-level patch: its block (`tmdb` or `images`) and `enrichment.<enricher>`.

    A transient failure never erases an earlier success: the patch is empty, the old data and status stay, and
    the failure is still reported. A definite not_found or ambiguous answer clears the old block, which was
    then wrong. An invalid record gets its outcome only, and so does a film TMDB removed (`removed`): its last
    TMDB data stays. Stores that write per lookup batch apply these patches
    as they come, with no grouping of a movie's parts.
    """
    prior = part.prior if isinstance(part.prior, dict) else {}
    previous = prior.get(part.enricher) if isinstance(prior.get(part.enricher), dict) else {}
    status = part.outcome["status"]
    if status == FAILED and previous.get("status") == OK:
        return key, {}
    patch: dict[str, Any] = {}
    if status not in (INVALID, REMOVED):
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
