"""`--dry_run`: what a run would enrich and roughly what it would cost, with no request and no write."""

from typing import TextIO

from movie_enrichment.io import database, stores
from movie_enrichment.io.checkpoints import CheckpointStore
from movie_enrichment.pipelines import report
from movie_enrichment.pipelines.config import RunConfig
from movie_enrichment.transforms import fields, matching, naming
from movie_enrichment.transforms.selection import checkpoint_answers, unknown_titles_warning

SAMPLE_SIZE = 10


def estimate_requests(query: matching.MovieQuery) -> int:
    """Requests for one movie: details alone with a known TMDB id, else a search or /find, then details."""
    return 1 if query.tmdb_id else 2


def titles_checked(config: RunConfig) -> bool:
    """Whether a run sees every record, so that it can tell which `--titles` entries match none: always for a
    JSON file; for a database only with --reprocess all (else it reads only the rows the mode may pick)."""
    return bool(config.selector.titles) and (config.selector.mode == "all" or not stores.is_store_url(config.input))


def sample_name(key: str, query: matching.MovieQuery | None) -> str:
    """How the sample names a record: its key (or name, `naming`), followed by its title and year where it does
    not already say the title (`#0 "Heat" (1995)`, `f1 "Heat" (1995)`, `tt0113277 "Heat" (1995)`; `Heat`,
    `Heat (1995)` alone)."""
    if query is None or query.title.casefold() in key.casefold():
        return key
    return f'{key} "{query.title}"' + (f" ({query.year})" if query.year is not None else "")


def describe(config: RunConfig, out: TextIO) -> dict:
    """Prints the selection and an estimate; returns the same figures (for tests and scripts)."""
    max_requests_per_second = config.max_requests_per_second
    snapshot = None  # a database store has one row per key: no duplicates
    if stores.is_store_url(config.input):
        # The selection runs in the database: only the rows it may pick are read, plus a count.
        from movie_enrichment.pipelines.enrich_pipeline import store_selection
        with stores.open_store(config.input, config.table, create=False) as store:
            total = store.count()
            items = list(store.read(store_selection(config.selector)))
    else:
        snapshot, items = database.load(config.input)
        total = len(items)
    roles = fields.detect_roles((record for _, record in items), dict(config.field_overrides))
    resumed = {}
    if config.checkpoint_dir:
        resumed = {hit.key: hit for hit in CheckpointStore(config.checkpoint_dir).read_all()}
    per_enricher = dict.fromkeys(config.selector.enrichers, 0)
    selected, invalid, from_checkpoints, requests = [], 0, 0, 0
    named: list[str] = []  # the sample's words: each selected key, with its title where the key does not say it
    for key, record in items:
        needed = config.selector.needed(key, record)
        if not needed:
            continue
        hit = resumed.get(key)
        if checkpoint_answers(hit, record, needed):
            from_checkpoints += 1
            continue
        for enricher in needed:
            per_enricher[enricher] += 1
        selected.append(key)
        try:
            query = matching.query_from_record(key, record, roles)
        except matching.InvalidRecord:
            invalid += 1
            query = None
        else:
            requests += estimate_requests(query)
        if len(named) < SAMPLE_SIZE:
            named.append(sample_name(naming.name_of(config.selector.naming, key, record), query))
    if selected and "images" in config.selector.enrichers:
        requests += 1  # /configuration, once per worker process
    seconds = requests / max_requests_per_second if max_requests_per_second else None
    figures = {"records": total, "selected": len(selected), "per_enricher": per_enricher,
               "invalid": invalid, "from_checkpoints": from_checkpoints, "estimated_requests": requests,
               "estimated_seconds": seconds, "sample": selected[:SAMPLE_SIZE]}
    where = report.shown(stores.redact_url(config.input))
    out.write(f"dry run: {report.plural(total, 'record')} in {where}, reprocess mode '{config.selector.mode}'"
              f"{', limited to --titles' if config.selector.titles is not None else ''}\n")
    names = config.selector.naming
    figures["records_named_by"] = names.describe() if names is not None else None
    if names is not None:
        out.write(f"  records named by: {names.describe()} (--key_field FIELD to choose)\n")
    if titles_checked(config):
        found = set().union(*(config.selector.titles_matched(key, record) for key, record in items))
        warning = unknown_titles_warning(config.selector.titles, found)
        if warning:
            out.write(f"  warning: {warning}\n")
    duplicates = snapshot.duplicates if snapshot is not None else ()
    figures["duplicate_keys"] = [{"key": key, "times": times} for key, times in duplicates]
    if duplicates:
        count = len(duplicates)
        then = ("the run would stop here and write nothing (--on_duplicate_keys fail)"
                if config.on_duplicate_keys == database.FAIL else
                "the run keeps the last record of each; the earlier ones stay in the backup of the input")
        out.write(f"  duplicate keys: {count} key{'s' if count > 1 else ''} held more than once: "
                  f"{database.describe_duplicates(duplicates, limit=10)}; {then}\n")
    out.write("  fields read (--field ROLE=NAME to choose another):\n")
    role_reports = fields.roles_report((record for _, record in items), roles)
    for role_report in role_reports:
        out.write(f"    {role_report.line()}\n")
    figures["fields"] = {r.role: {"field": r.field, "usable": r.usable, "records": r.records} for r in role_reports}
    if config.selector.mode == "changed":
        out.write(f"  TMDB lists {len(config.selector.changed_ids)} movies as changed since the oldest enrichment: "
                  f"{len(selected)} of these enriched movies would be refreshed\n")
    for enricher, count in per_enricher.items():
        out.write(f"  {enricher:<9} would enrich {report.plural(count, 'movie')}\n")
    if from_checkpoints:
        out.write(f"  {from_checkpoints} more are already in the checkpoints of an unfinished run (no request)\n")
    if invalid:
        out.write(f"  {report.plural(invalid, 'selected record')} without a usable title (marked invalid, no request)\n")
    when = f"{report.about(seconds)} at {max_requests_per_second:g} requests/s" if seconds is not None \
        else "no rate limit set"
    out.write(f"  estimated requests: at most {requests} ({when}; cached responses cost none)\n")
    if selected:
        out.write("  sample: " + "; ".join(named) + "\n")
    out.write("nothing was requested or written\n")
    return figures
