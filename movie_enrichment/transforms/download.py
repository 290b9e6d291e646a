"""The image download stage (`--download_images DIR`): each movie's poster and backdrop (and logo, when asked)
stored under DIR as TMDB names them, and its `images` block given each file's path, size and blurhash."""

import concurrent.futures
import dataclasses
import logging
import threading
from typing import Any, Callable, Iterable

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.utils import shared

from movie_enrichment.io import progress
from movie_enrichment.io.images import CorruptImage, FetchError, ImageFetcher, ImageStore, decode, relative_path
from movie_enrichment.io.tmdb import TmdbClient, TmdbError, TmdbSettings
from movie_enrichment.model import FAILED, NAMESPACE, OK, EnrichedPart
from movie_enrichment.transforms import extract
from movie_enrichment.transforms.client_fn import ClientDoFn

_LOGGER = logging.getLogger(__name__)

DEFAULT_KINDS = ("poster", "backdrop")
DEFAULT_CONCURRENCY = 20
# The stage's counters (the report and the progress line read them).
# An image that failed is images_download_failed: images_failed counts the movies whose images outcome failed
# (the enrichers' f"{enricher}_{status}"), which the report's table reads.
DOWNLOADED, SKIPPED, FAILED_IMAGES, OVER_CAP, BYTES = (
    "images_downloaded", "images_skipped", "images_download_failed", "images_over_cap", "images_bytes")
# What the live progress (io/progress.py's IMAGE_FIELDS) counts of each outcome.
_PROGRESS = {DOWNLOADED: "images_downloaded", SKIPPED: "images_skipped", FAILED_IMAGES: "images_failed"}
COUNTERS = (DOWNLOADED, SKIPPED, FAILED_IMAGES, OVER_CAP, BYTES)


def download_option(kinds: Iterable[str]) -> dict[str, str]:
    """What `enrichment.images.options` holds for a block made with downloads: a movie enriched without them
    (or with other kinds) is selected again, and its images are stored."""
    return {"download_images": ",".join(kinds)}


@dataclasses.dataclass(frozen=True)
class DownloadSettings:
    """Plain data: where images go and how they are fetched.

    Args:
        root: `--download_images DIR`.
        kinds: the block's images to store: poster, backdrop, logo.
        concurrency: downloads in flight at once per worker process (`--image_concurrency`).
        max_bytes: `--images_max_gb` in bytes: once DIR holds this much, no more downloads; None: no cap.
        retries, timeout, backoff: as the TMDB client's (`--http_retries`, `--http_timeout`).
    """

    root: str
    kinds: tuple[str, ...] = DEFAULT_KINDS
    concurrency: int = DEFAULT_CONCURRENCY
    max_bytes: int | None = None
    retries: int = 5
    timeout: float = 10.0
    backoff: float = 0.5


class _Downloads:
    """The per-process part of the stage (held through `Shared`): the connections, the pool of downloads in
    flight, and the bytes under DIR against the cap."""

    def __init__(self, settings: DownloadSettings, root: str, sleep: Callable[[float], None] | None = None):
        self.settings = settings
        self.store = ImageStore(settings.root)
        self.fetcher = ImageFetcher(root, settings.concurrency, settings.timeout, settings.retries,
                                    settings.backoff, **({"sleep": sleep} if sleep else {}))
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=settings.concurrency,
                                                          thread_name_prefix="images")
        self.root = root
        self._lock = threading.Lock()
        self._used = self.store.size() if settings.max_bytes is not None else 0
        self._told = False

    def reserve(self) -> bool:
        """Whether one more download may start (DIR under the cap); the first refusal says so, once."""
        cap = self.settings.max_bytes
        if cap is None:
            return True
        with self._lock:
            if self._used < cap:
                return True
            if not self._told:
                self._told = True
                _LOGGER.warning("Images: %s holds %.2f GB, the --images_max_gb cap of %.2f GB: no more downloads "
                                "in this run, the remaining records keep their links only", self.settings.root,
                                self._used / 1e9, cap / 1e9)
            return False

    def written(self, size: int) -> None:
        with self._lock:
            self._used += size


@dataclasses.dataclass
class _Result:
    relative: str
    outcome: str  # DOWNLOADED, SKIPPED, OVER_CAP or FAILED_IMAGES
    width: int | None = None
    height: int | None = None
    blurhash: str | None = None
    size: int = 0
    error: str | None = None


def _one(downloads: _Downloads, relative: str) -> _Result:
    """Stores one image (unless a whole one is there already) and describes it."""
    store = downloads.store
    try:
        existing = store.read(relative)
        if existing is not None:
            try:
                found = decode(existing)
                return _Result(relative, SKIPPED, found.width, found.height, found.blurhash)
            except CorruptImage:
                pass  # not written by a run (runs write whole files): downloaded again, and replaced
        if not downloads.reserve():
            return _Result(relative, OVER_CAP)
        data, found = downloads.fetcher.get(downloads.root + relative, decode)
        store.write(relative, data)
        downloads.written(len(data))
        return _Result(relative, DOWNLOADED, found.width, found.height, found.blurhash, len(data))
    except FetchError as error:
        return _Result(relative, FAILED_IMAGES, error=str(error))
    except OSError as error:
        return _Result(relative, FAILED_IMAGES, error=f"could not store it: {error}")


class DownloadImagesFn(ClientDoFn):
    """Stores the images of each movie's `images` block under DIR and adds their files, sizes and blurhashes.

    Args:
        settings: the TMDB client's settings (the image host comes from /configuration, asked once per process).
        downloads: the stage's `DownloadSettings`.
        client_factory: builds the TMDB client; tests pass a fake.
        sleep: waits between an image's retries; tests pass a fake.

    Input: batches of (key, [EnrichedPart, ...]) (`EnrichPartsFn`'s output). Output: the same movies, their
    images part given `<kind>_file` (the path under DIR), `<kind>_width`, `<kind>_height` and `<kind>_blurhash`
    per kind; an image that cannot be had makes the part `failed` with the reason (its links stay). Counts
    images downloaded, skipped (already there), failed, over the cap, and the bytes written.
    """

    def __init__(self, settings: TmdbSettings, downloads: DownloadSettings,
                 client_factory: Callable[[TmdbSettings], Any] = TmdbClient,
                 sleep: Callable[[float], None] | None = None):
        super().__init__(settings, client_factory)
        self._downloads_settings = downloads
        self._sleep = sleep
        self._shared = shared.Shared()  # a key only: the connections and the pool are per process
        self._downloads: _Downloads | None = None

    def setup(self) -> None:
        super().setup()
        self._stage = {name: Metrics.counter(NAMESPACE, name) for name in COUNTERS}
        self._images_ok = Metrics.counter(NAMESPACE, f"images_{OK}")
        self._images_failed = Metrics.counter(NAMESPACE, f"images_{FAILED}")

    def _acquire(self) -> _Downloads:
        # On first use, not in setup(): a batch without images (every movie not found) asks no /configuration.
        if self._downloads is None:
            def make() -> _Downloads:
                try:
                    body = self._client.configuration()
                finally:
                    self._report_requests()
                return _Downloads(self._downloads_settings, extract.image_root(body, self._settings.base_url),
                                  self._sleep)
            self._downloads = self._shared.acquire(make, tag=repr((self._downloads_settings, self._settings.base_url)))
        return self._downloads

    def process(self, batch: list[tuple[str, list[EnrichedPart]]]) -> Iterable[tuple[str, list[EnrichedPart]]]:
        wanted = {relative_path((part.value or {}).get(kind)) for _, parts in batch for part in parts
                  if _downloadable(part) for kind in self._downloads_settings.kinds} - {None}
        results: dict[str, _Result] = {}
        if wanted:
            try:
                downloads = self._acquire()
            except TmdbError as error:
                results = {relative: _Result(relative, FAILED_IMAGES, error=f"configuration: {error}")
                           for relative in wanted}
            else:
                futures = {relative: downloads.pool.submit(_one, downloads, relative) for relative in sorted(wanted)}
                results = {relative: future.result() for relative, future in futures.items()}
            for result in results.values():
                self._stage[result.outcome].inc()
                if result.size:
                    self._stage[BYTES].inc(result.size)
            live = {name: sum(r.outcome == outcome for r in results.values()) for outcome, name in _PROGRESS.items()}
            progress.add(**live, images_bytes=sum(r.size or 0 for r in results.values()))
        for key, parts in batch:
            yield key, [self._with_files(part, results) if _downloadable(part) else part for part in parts]

    def _with_files(self, part: EnrichedPart, results: dict[str, _Result]) -> EnrichedPart:
        value = dict(part.value)
        errors = []
        for kind in self._downloads_settings.kinds:
            relative = relative_path(value.get(kind))
            result = results.get(relative) if relative else None
            stored = result is not None and result.outcome in (DOWNLOADED, SKIPPED)
            value[f"{kind}_file"] = relative if stored else None
            value[f"{kind}_width"] = result.width if stored else None
            value[f"{kind}_height"] = result.height if stored else None
            value[f"{kind}_blurhash"] = result.blurhash if stored else None
            if result is not None and result.outcome == FAILED_IMAGES:
                errors.append(f"{kind} {relative}: {result.error}")
        outcome = dict(part.outcome)
        outcome["options"] = {**(outcome.get("options") or {}), **download_option(self._downloads_settings.kinds)}
        if errors:
            outcome.update(status=FAILED, error="download: " + "; ".join(errors))
            self._images_ok.dec()
            self._images_failed.inc()
        return dataclasses.replace(part, value=value, outcome=outcome)


def _downloadable(part: EnrichedPart) -> bool:
    return part.enricher == "images" and part.outcome.get("status") == OK and isinstance(part.value, dict)


class DownloadImages(beam.PTransform):
    """The download stage: movies batched (so that one worker's downloads overlap, `concurrency` at once), their
    images stored, the movies passed on.

    Args:
        settings, downloads, client_factory: as `DownloadImagesFn`'s.
        batch_size: movies per batch (default twice the concurrency, so the pool stays busy).
    """

    def __init__(self, settings: TmdbSettings, downloads: DownloadSettings,
                 client_factory: Callable[[TmdbSettings], Any] = TmdbClient, batch_size: int | None = None):
        super().__init__()
        self._fn = DownloadImagesFn(settings, downloads, client_factory)
        self._batch = batch_size or 2 * downloads.concurrency

    def expand(self, movies):
        return (movies
                | "BatchImages" >> beam.BatchElements(min_batch_size=self._batch, max_batch_size=self._batch)
                | "FetchImages" >> beam.ParDo(self._fn))


def stored_files(images: Any) -> tuple[str, ...]:
    """The paths under DIR that an `images` block refers to (`<kind>_file` of every kind)."""
    if not isinstance(images, dict):
        return ()
    return tuple(value for name, value in images.items() if name.endswith("_file") and isinstance(value, str))


def _record_files(chunk: Any) -> Iterable[tuple[str, tuple[str, ...]]]:
    for key, record in chunk if isinstance(chunk, list) else [chunk]:
        yield key, stored_files(record.get("images") if isinstance(record, dict) else None)


def _patch_files(key: str, patch: dict) -> Iterable[tuple[str, tuple[str, ...]]]:
    if "images" in patch:  # a patch without it (a failure keeping an earlier success) leaves the record's
        yield key, stored_files(patch["images"])


def _referenced(element: tuple[str, dict]) -> Iterable[str]:
    """The files a record refers to once written: its patch's, if the run gave it images, else its own."""
    _, groups = element
    chosen = groups["patches"] if groups["patches"] else groups["records"]
    for files in chosen:
        yield from files


def _prune(_written: Any, root: str, referenced: list[str]) -> dict:
    removed, freed = ImageStore(root).prune(referenced)
    Metrics.counter(NAMESPACE, "images_pruned").inc(removed)
    Metrics.counter(NAMESPACE, "images_pruned_bytes").inc(freed)
    return {"images_pruned": removed, "images_pruned_bytes": freed}


class PruneImages(beam.PTransform):
    """`--prune_images`: once the database is written, removes the files under DIR that no record refers to.

    Args:
        root: `--download_images DIR`.
        records: every record of the database, (key, record) or lists of them (`ReadMovieDatabase`'s records).
        written: the database write's output: the pruning waits for it.

    Input: the run's (key, patch) patches. Output: one dict, the files removed and the bytes freed.
    """

    def __init__(self, root: str, records, written):
        super().__init__()
        self._root = root
        self._records = records
        self._written = written

    def expand(self, patches):
        referenced = (
            {"records": self._records | "RecordFiles" >> beam.FlatMap(_record_files),
             "patches": patches | "PatchFiles" >> beam.FlatMapTuple(_patch_files)}
            | "JoinFiles" >> beam.CoGroupByKey()
            | "Referenced" >> beam.FlatMap(_referenced)
            | "Distinct" >> beam.Distinct())
        return self._written | "Prune" >> beam.Map(_prune, self._root, beam.pvalue.AsList(referenced))
