"""Records matched to one TMDB film (`SharedMatches`): over every record of the database after this run's matches,
for the report's `shared_matches` and the review list. Nothing is merged: the user merges the records or pins one.

Two records of one film ("Heat" and "Heat [1995]") are matched to the same id without a word otherwise. Only
(key, (tmdb id, name)) pairs of the matched records travel: every record's id as the database holds it, and each
movie looked up this run with the id it has now (None when it has none any more), joined by key; the last grouping
is by id.
"""

from typing import Any, Iterable

import apache_beam as beam
import orjson
from apache_beam.metrics import Metrics

from movie_enrichment.io.review import SHARED
from movie_enrichment.io.stores import matched_id
from movie_enrichment.model import NAMESPACE, OK, Lookup
from movie_enrichment.transforms.naming import Naming, name_of

# The report's `shared_matches`, one string each: the JSON of [tmdb_id, [keys...]].
SHARED_METRIC = "shared_matches"


def matched_before(chunk: list[tuple[str, Any]], naming: Naming | None) -> Iterable[tuple[str, tuple[int, str]]]:
    """(key, (id, name)) of each matched record of a chunk of the read (lists of (key, record)): what
    `SharedMatches` takes of a JSON file, read whole (a database store's come from `stores.ReadStoreMatches`)."""
    for key, record in chunk:
        tmdb_id = matched_id(record)
        if tmdb_id is not None:
            yield key, (tmdb_id, name_of(naming, key, record))


def now_matched(key: str, hit: Lookup) -> tuple[str, tuple[int | None, str]]:
    """(key, (id, name)) of a movie looked up this run: the id it is matched to now, or None; its name is its key
    until `EnrichMovies` names it."""
    return key, (hit.tmdb_id if hit.status == OK else None, key)


def _final(element: tuple[str, dict]) -> Iterable[tuple[int, str]]:
    """(id, name) of a record matched after this run: this run's answer where it was looked up, else as before."""
    _key, joined = element
    now, before = list(joined["now"]), list(joined["before"])
    tmdb_id, name = (now or before)[0]
    if tmdb_id is not None:
        yield tmdb_id, (before[0][1] if before else name)


def review_entries(tmdb_id: int, keys: list[str]) -> list[dict]:
    """One review line per record of a shared match, naming the others."""
    return [{"key": key, "status": SHARED, "tmdb_id": tmdb_id, "keys": keys,
             "reason": f"matched to TMDB movie {tmdb_id}, as {', '.join(repr(k) for k in keys if k != key)}: "
                       "two records of one film, or a wrong match",
             "pin": "merge the records, or pin the right film: add \"tmdb_id\": ID to the record, or a line "
                    "KEY,ID to a --pins file, then rerun"} for key in keys]


class _ReportFn(beam.DoFn):
    """A group of records matched to one id: counted for the report (a string-set metric) and its review lines."""

    def setup(self) -> None:
        self._shared = Metrics.string_set(NAMESPACE, SHARED_METRIC)

    def process(self, group: tuple[int, Iterable[str]]) -> Iterable[dict]:
        tmdb_id, names = group
        keys = sorted(set(names))
        if len(keys) > 1:
            self._shared.add(orjson.dumps([tmdb_id, keys]).decode())
            yield from review_entries(tmdb_id, keys)


def parse_metric(values: Iterable[str]) -> list[dict]:
    """The report's `shared_matches` from the metric's strings: [{"tmdb_id", "keys"}], by id."""
    groups = [orjson.loads(value) for value in values]
    return [{"tmdb_id": tmdb_id, "keys": keys} for tmdb_id, keys in sorted(groups)]


class SharedMatches(beam.PTransform):
    """The records matched to the same TMDB id after this run.

    Args:
        matched: (key, (tmdb id or None, name)) of each movie looked up this run (`EnrichMovies`' `matched`).

    Input: (key, (tmdb id, name)) of every record of the whole database matched before this run
    (`matched_before`, or `stores.ReadStoreMatches`). Output: the review lines of the shared matches
    (`review_entries`); each group is counted in the `shared_matches` metric.
    """

    def __init__(self, matched):
        super().__init__()
        self._matched = matched

    def expand(self, before):
        return ({"now": self._matched, "before": before}
                | "JoinByKey" >> beam.CoGroupByKey()
                | "MatchedAfter" >> beam.FlatMap(_final)
                | "ById" >> beam.GroupByKey()
                | "Shared" >> beam.ParDo(_ReportFn()))
