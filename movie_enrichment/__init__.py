"""Enrich a movie database JSON file with TMDB metadata and images, as an Apache Beam pipeline."""

import logging


class _OptionalCloudNotices(logging.Filter):
    """Drops Beam's import-time notices about Google Cloud client libraries this project does not use."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "apitools not found" not in record.getMessage()


logging.getLogger().addFilter(_OptionalCloudNotices())
