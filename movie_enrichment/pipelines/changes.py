"""`--reprocess changed`: the enriched movies that TMDB lists as edited since they were enriched."""

import dataclasses

from movie_enrichment.io import database, stores
from movie_enrichment.io.tmdb import TmdbClient, TmdbError
from movie_enrichment.pipelines.config import RunConfig
from movie_enrichment.transforms.selection import oldest_update


class ChangesError(Exception):
    """TMDB's change list could not be read: a refresh by changes cannot know what to redo."""


def with_changed_ids(config: RunConfig) -> RunConfig:
    """The config whose selector knows the TMDB ids edited since the oldest successful enrichment.

    This mode reads the database once more, before the run, for that date; the change list costs one request
    per 100 ids listed and per 14 days.
    """
    if stores.is_store_url(config.input):
        from movie_enrichment.pipelines.enrich_pipeline import store_selection
        with stores.open_store(config.input, config.table, create=False) as store:
            items = list(store.read(store_selection(config.selector)))
    else:
        _, items = database.load(config.input)
    since = oldest_update(items, config.selector.enrichers)
    del items
    ids: frozenset[int] = frozenset()
    if since is not None:
        try:
            with TmdbClient(config.settings) as client:
                ids = frozenset(client.changed_movie_ids(since))
        except TmdbError as error:
            raise ChangesError(f"cannot read TMDB's list of changed movies: {error}") from None
    return dataclasses.replace(config, selector=dataclasses.replace(config.selector, changed_ids=ids))
