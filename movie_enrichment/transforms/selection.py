"""Which movies a run enriches, and with which enrichers: the `--reprocess`, `--titles` and `--pins` rules, and
the records whose match inputs the user corrected."""

import csv
import dataclasses
import datetime
import functools
import re
from typing import Any, Iterable

import apache_beam as beam
from apache_beam.metrics import Metrics

from movie_enrichment.io import progress
from movie_enrichment.io.sink import default_digest
from movie_enrichment.model import AMBIGUOUS, ENRICHERS, FAILED, NAMESPACE, NOT_FOUND, OK, REMOVED, Lookup
from movie_enrichment.transforms import fields
from movie_enrichment.transforms.naming import Naming, find_named

TITLES_FOUND_METRIC = "titles_found"  # the --titles entries some record answers to
PINS_FOUND_METRIC = "pins_found"  # the --pins keys some record has
# `#288,900050`: a pin of the record at position 288 of an array or JSON Lines file (the key the review list
# gives it), not a comment; `# 288` or `#note` stays a comment.
_POSITION_PIN = re.compile(r"#\d+\s*,")
REPROCESS_MODES = ("missing", "failed", "not_found", "stale", "changed", "all")
# The modes that ask TMDB again about movies it already answered for: they bypass the HTTP cache.
REFRESH_MODES = ("not_found", "stale", "changed", "all")


def fingerprint(record: Any) -> str:
    """A digest of the user's own fields, so a checkpoint is reused only for the record it was made from."""
    return default_digest("", record)


def checkpoint_answers(hit: Lookup | None, record: Any, needed: tuple[str, ...]) -> bool:
    """Whether a checkpointed lookup can stand for this record now: made from this very record (same
    fingerprint) and covering every enricher it needs."""
    return hit is not None and hit.fingerprint == fingerprint(record) and set(needed) <= set(hit.enrichers)


# Refresh by the film's age (`--reprocess stale` without `--stale_after`), as Radarr does: (released within, redo
# after), the first row that holds; a film not released yet counts as new. The README's table says the same.
DAY = datetime.timedelta(days=1)
AGE_POLICY = ((90 * DAY, 7 * DAY), (730 * DAY, 30 * DAY), (None, 180 * DAY))
UNDATED_PERIOD = 30 * DAY  # a film with no release date nor year: between new and old


def refresh_period(released: datetime.date | None, today: datetime.date) -> datetime.timedelta:
    """How long an outcome of a film released on `released` stays fresh (`AGE_POLICY`)."""
    if released is None:
        return UNDATED_PERIOD
    age = today - released
    return next(period for within, period in AGE_POLICY if within is None or age <= within)


def release_date(record: dict) -> datetime.date | None:
    """The film's release date: TMDB's (the record's `tmdb` block), else the last day of the record's year."""
    tmdb = record.get("tmdb") if isinstance(record.get("tmdb"), dict) else {}
    text = tmdb.get("release_date")
    if isinstance(text, str):
        try:
            return datetime.date.fromisoformat(text[:10])
        except ValueError:
            pass
    year = fields.DEFAULT_ROLES.value(fields.YEAR, record)[1]
    return datetime.date(year, 12, 31) if isinstance(year, int) and 1800 < year < 3000 else None


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def parse_time(value: Any) -> datetime.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


# The option of a block whose images were stored (`download.download_option`).
_DOWNLOADS = "download_images"

@dataclasses.dataclass(frozen=True)
class Selector:
    """Decides, per record, which enrichers to run.

    Args:
        enrichers: the requested enrichers (`--enrich`).
        mode: one of REPROCESS_MODES (`--reprocess`).
        stale_before: with mode `stale`, outcomes older than this are redone; None: by the film's age
            (`AGE_POLICY`).
        now: the time the age policy measures from (tests inject it).
        titles: with `--titles`, only these names (or record titles) are considered.
        changed_ids: with mode `changed`, the TMDB ids that TMDB lists as edited since the oldest enrichment:
            the movies enriched (`ok`) with one of these ids are redone.
        pins: `--pins`: name -> pin ("tmdb:603" or "imdb:tt0133093"); a movie whose pin is not applied yet is
            looked up again, whatever the mode.
        field_overrides: `--field` (role, field) pairs, for the match inputs.
        naming: how the records of an array or JSON Lines file are named in `titles` and `pins` (`naming.Naming`;
            they answer to their position `#N` too); None: by their key.

    Whatever the mode, a movie is looked up again when the user changed what its match depends on (its
    title, year, directors or ids, `fields.match_inputs`) since the last lookup, or wrote into it an id
    that differs from the film it is matched to: that is how a correction or a pin is picked up by a plain
    rerun.
    """

    enrichers: tuple[str, ...] = ENRICHERS
    mode: str = "missing"
    stale_before: datetime.datetime | None = None
    titles: frozenset[str] | None = None
    changed_ids: frozenset[int] = frozenset()
    pins: dict[str, str] = dataclasses.field(default_factory=dict)
    field_overrides: tuple[tuple[str, str], ...] = ()
    # enricher -> the options its block is derived with, None for the defaults (`enrichers.derived_with`): a
    # movie enriched with others (`--language`, ...) is derived again, from the cached answers.
    derived_with: dict[str, Any] = dataclasses.field(default_factory=dict)
    naming: Naming | None = None
    now: datetime.datetime = dataclasses.field(default_factory=_utc_now)

    def stale_cutoff(self) -> datetime.datetime | None:
        """With mode `stale`, the time before which an outcome may be due (`stale_before`, else now less the
        shortest period of the age policy): what a database store selects in SQL, a superset."""
        if self.mode != "stale" or self.stale_before is not None:
            return self.stale_before
        return self.now - min(period for _, period in AGE_POLICY)

    @functools.cached_property
    def roles(self) -> fields.Roles:
        """The roles that do not depend on the data: the overrides, and every field named like a role."""
        return fields.input_roles(self.field_overrides)

    def _wanted(self, outcome: Any, record: dict) -> bool:
        status = outcome.get("status") if isinstance(outcome, dict) else None
        if self.mode == "all":
            return True
        if self.mode == "missing":
            # No outcome yet, or a transient failure; a definite not_found is redone only when asked.
            return status is None or status == FAILED
        if self.mode == "failed":
            return status == FAILED
        if self.mode == "not_found":
            return status in (NOT_FOUND, AMBIGUOUS, REMOVED)
        if self.mode == "changed":
            return False  # decided in needed(), from the record's TMDB id
        if self.mode == "stale":
            # What one scheduled entry needs to keep a catalogue healthy: the new movies, the failed and removed
            # ones (however recent), and every outcome older than --stale_after days, else than its film's age
            # allows (AGE_POLICY).
            when = parse_time(outcome.get("updated_at")) if isinstance(outcome, dict) else None
            if status is None or status in (FAILED, REMOVED) or when is None:
                return True
            if self.stale_before is not None:
                return when < self.stale_before
            return when < self.now - refresh_period(release_date(record), self.now.date())
        raise ValueError(f"unknown reprocess mode: {self.mode}")

    def needed(self, key: str, record: Any) -> tuple[str, ...]:
        """The enrichers this record needs in this run; empty when it passes through untouched."""
        if not isinstance(record, dict):
            return ()  # kept as it is; nothing can be recorded in it
        if self.titles is not None and not self.titles_matched(key, record):
            return ()
        done = record.get("enrichment") if isinstance(record.get("enrichment"), dict) else {}
        redo = self._corrected(key, record, done)
        if self.mode == "changed" and not redo:
            if enriched_tmdb_id(record) not in self.changed_ids:
                return ()
            return tuple(e for e in self.enrichers if isinstance(done.get(e), dict) and done[e].get("status") == OK)
        return tuple(e for e in self.enrichers
                     if redo or self._wanted(done.get(e), record) or self._derived_otherwise(e, done.get(e)))

    def _derived_otherwise(self, enricher: str, outcome: Any) -> bool:
        """Whether this enricher's block was derived with other options than this run's (its outcome's
        `options`; none for the defaults)."""
        if not isinstance(outcome, dict) or outcome.get("status") != OK:
            return False
        made_with, wanted = dict(outcome.get("options") or {}), self.derived_with.get(enricher) or {}
        if _DOWNLOADS not in wanted:
            # Stored images satisfy a run that stores none: a plain run after a --download_images one would
            # otherwise derive every block again and drop its files' fields.
            made_with.pop(_DOWNLOADS, None)
        return made_with != wanted

    def titles_matched(self, key: str, record: Any) -> set[str]:
        """The `--titles` entries this record answers to: its name, its key, its title."""
        if not self.titles:
            return set()
        title = fields.DEFAULT_ROLES.value(fields.TITLE, record)[1] if isinstance(record, dict) else None
        names = (key,) if self.naming is None else self.naming.names(key, record)
        return {entry for entry in (*names, title) if isinstance(entry, str) and entry in self.titles}

    def pin(self, key: str, record: Any) -> tuple[str | None, str | None]:
        """(the `--pins` entry, its pin) for this record: by its name, else its key; (None, None) when unpinned."""
        return find_named(self.pins, self.naming, key, record)

    def _corrected(self, key: str, record: dict, done: dict) -> bool:
        """Whether the user pinned or corrected this movie since its last lookup."""
        outcomes = [o for o in done.values() if isinstance(o, dict) and o.get("status")]
        if not outcomes:
            return False
        pin = self.pin(key, record)[1]
        if pin is not None and any(o.get("pinned") != pin for o in outcomes):
            return True
        roles = self.roles
        digest = fields.match_inputs(record, roles)
        if any(o.get("match_inputs") not in (None, digest) for o in outcomes):
            return True
        return _pin_differs(record, roles)


def _pin_differs(record: dict, roles: fields.Roles) -> bool:
    """An id written into the record that is not the film it is matched to (records enriched before match
    inputs were kept)."""
    matched = record.get("tmdb") if isinstance(record.get("tmdb"), dict) else {}
    tmdb_id = roles.value(fields.TMDB_ID, record)[1]
    if tmdb_id is not None:
        return tmdb_id != matched.get("id")
    imdb_id = roles.value(fields.IMDB_ID, record)[1]
    return imdb_id is not None and imdb_id != matched.get("imdb_id")


class PinsError(ValueError):
    """A bad `--pins` file; the message is one line."""


def read_pins(lines: Iterable[str]) -> dict[str, str]:
    """`key,tmdb_id` or `key,imdb_id` lines -> {key: "tmdb:603" | "imdb:tt0133093"}.

    The id is after the last comma, so keys may hold commas ("Lock, Stock and Two Smoking Barrels,100"); a key
    may be quoted as CSV quotes it (`"Heat (1995)",949`, with doubled quotes inside); the position key of a record of an
    array or JSON Lines file is written `#N` (`#288,900050`), as the review list names it. A TMDB URL or an IMDb
    URL works as the id too. Blank lines, # comments and a `key,...` header are skipped."""
    pins: dict[str, str] = {}
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or (text.startswith("#") and not _POSITION_PIN.match(text)):
            continue
        key, comma, value = _split_pin(text)
        if number == 1 and key.casefold() == "key":
            continue
        imdb_id = fields.parse_imdb_id(value)
        tmdb_id = fields.parse_tmdb_id(value) if imdb_id is None else None
        if not comma or not key or (imdb_id is None and tmdb_id is None):
            raise PinsError(f"line {number}: expected KEY,TMDB_ID or KEY,IMDB_ID (e.g. Gladiator,98 or "
                            f"Gladiator,tt0172495), got {text!r}")
        pins[key] = f"imdb:{imdb_id}" if imdb_id else f"tmdb:{tmdb_id}"
    return pins


def _split_pin(text: str) -> tuple[str, str, str]:
    """A pin line -> (key, comma, id): CSV's reading where the key is quoted, else split at the last comma."""
    if text.startswith('"'):
        row = next(csv.reader([text], skipinitialspace=True), [])
        if len(row) == 2:
            return row[0].strip(), ",", row[1].strip()
    key, comma, value = text.rpartition(",")
    return key.strip().strip('"'), comma, value.strip().strip('"')


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
        self._selected = Metrics.counter(NAMESPACE, "selected")
        self._titles_found = Metrics.string_set(NAMESPACE, TITLES_FOUND_METRIC)
        self._pins_found = Metrics.string_set(NAMESPACE, PINS_FOUND_METRIC)
        self._found: set[str] = set()
        self._found_pins: set[str] = set()

    def process(self, chunk: list[tuple[str, Any]]) -> Iterable[tuple[str, tuple[Any, tuple[str, ...]]]]:
        for key, record in chunk:
            if self._selector.titles:  # which entries of --titles the database holds, for the warning
                for entry in self._selector.titles_matched(key, record) - self._found:
                    self._found.add(entry)
                    self._titles_found.add(entry)
            entry = self._selector.pin(key, record)[0]
            if entry is not None and entry not in self._found_pins:  # for the pins' warning
                self._found_pins.add(entry)
                self._pins_found.add(entry)
            needed = self._selector.needed(key, record)
            if needed:
                progress.add(selected=1)
                self._selected.inc()
                yield key, (record, needed)

    def finish_bundle(self) -> None:
        progress.TRACKER.flush()


def unmatched(entries: Iterable[str] | None, found: Iterable[str]) -> list[str]:
    """The `--titles` entries or `--pins` keys that no movie answered to, sorted."""
    return sorted(set(entries or ()) - set(found))


def _named(unknown: list[str], named: int) -> str:
    return ", ".join(repr(t) for t in unknown[:named]) + (f" and {len(unknown) - named} more"
                                                           if len(unknown) > named else "")


def _unmatched_text(option: str, entries: Iterable[str] | None, found: Iterable[str], why: str,
                    named: int) -> str | None:
    """`N <option> entries match no movie of the database (<why>): the first few by name`, or None."""
    unknown = unmatched(entries, found)
    if not unknown:
        return None
    matches = "entry matches" if len(unknown) == 1 else "entries match"
    return f"{len(unknown)} {option} {matches} no movie of the database ({why}): {_named(unknown, named)}"


def unknown_titles_warning(titles: frozenset[str] | None, found: Iterable[str], named: int = 5) -> str | None:
    """The one warning for the `--titles` entries that match no movie (no key, no title)."""
    return _unmatched_text("--titles", titles, found, "neither a key nor a title", named)


def unknown_pins_text(pins: Iterable[str], found: Iterable[str], named: int = 5) -> str | None:
    """What the warning says of the `--pins` keys no record has (a pin goes by key or name only)."""
    return _unmatched_text("--pins", pins, found, "no record has that key", named)


def unmatched_warning(titles_text: str | None, pins_text: str | None) -> str | None:
    """The one warning line for the `--titles` entries and the `--pins` keys that match no movie."""
    if titles_text and pins_text:
        return f"{titles_text}; {pins_text}"
    return titles_text or (f"warning: {pins_text}" if pins_text else None)


def read_titles(lines: Iterable[str]) -> frozenset[str]:
    """One key per line; blank lines and lines starting with # are skipped."""
    return frozenset(s for s in (line.strip() for line in lines) if s and not s.startswith("#"))
