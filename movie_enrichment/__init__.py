"""Enrich a movie database JSON file with TMDB metadata and images, as an Apache Beam pipeline."""

import logging


class _OptionalCloudNotices(logging.Filter):
    """Drops Beam's import-time notices about optional cloud libraries (GCS, S3, BigQuery clients) that this
    project does not need: they are noise at every start and would break "one line per error"."""

    _NOTICES = ("apitools not found", "Failed to import GCSFileSystem", "Failed to import S3FileSystem",
                "Failed to import BlobStorageFileSystem", "Failed to import HadoopFileSystem")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(message.startswith(n) for n in self._NOTICES)


# A logger's filter applies only to records logged on that very logger, so each one that speaks gets it.
for _name in ("", "apache_beam.io.filesystems"):
    logging.getLogger(_name).addFilter(_OptionalCloudNotices())

from movie_enrichment.api import OptionError, Run, attach, check_options, launch, launch_async  # noqa: E402

# For other programs that write a database this tool enriches (README, "Other programs that write the database").
from movie_enrichment.io.lock import LockBusy, database_lock  # noqa: E402

__all__ = ["LockBusy", "OptionError", "Run", "attach", "check_options", "database_lock", "launch", "launch_async"]
