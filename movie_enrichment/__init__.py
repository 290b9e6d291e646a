"""Enrich a movie database JSON file with TMDB metadata and images, as an Apache Beam pipeline."""

import logging


class _OptionalCloudNotices(logging.Filter):
    """Drops Beam's import-time notices about optional cloud libraries (GCS, S3, BigQuery clients) that this
    project does not need: they are noise at every start and would break "one line per error"."""

    _NOTICES = ("apitools not found", "Failed to import GCSFileSystem", "Failed to import S3FileSystem",
                "Failed to import BlobStorageFileSystem", "Failed to import HadoopFileSystem",
                "Could not find a compatible bson package")  # MongoDB's client, which the command leaves out

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(message.startswith(n) for n in self._NOTICES)


# A logger's filter applies only to records logged on that very logger, so each one that speaks gets it.
for _name in ("", "apache_beam.io.filesystems", "apache_beam.io.mongodbio"):
    logging.getLogger(_name).addFilter(_OptionalCloudNotices())

# The public names are imported when first used: the command (`python -m movie_enrichment`, `movie-enrich`) passes
# through this file first, before it leaves out the Beam modules no run uses (cli.command), and the io layer
# imports Apache Beam.
_PUBLIC = {"OptionError": "api", "Run": "api", "attach": "api", "check_options": "api", "launch": "api",
           "launch_async": "api",
           # For other programs that write a database this tool enriches (README, "Other programs that write the
           # database").
           "LockBusy": "io.lock", "database_lock": "io.lock"}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(f"{__name__}.{_PUBLIC[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
