"""The enrichers (plain classes that turn a movie's lookup into its `tmdb` and `images` parts) and the DoFn that
runs them."""

import dataclasses
import threading
from typing import Any, Callable, Iterable, Protocol

from apache_beam.metrics import Metrics
from apache_beam.utils import shared

from movie_enrichment.io.tmdb import TmdbAuthError, TmdbClient, TmdbError, TmdbSettings
from movie_enrichment.model import FAILED, NAMESPACE, OK, STATUSES, EnrichedPart, Lookup, now_iso
from movie_enrichment.transforms import extract
from movie_enrichment.transforms.client_fn import ClientDoFn


def outcome(hit: Lookup, extra: dict | None = None) -> dict:
    """The record's `enrichment.<enricher>` entry for a lookup."""
    entry = {"status": hit.status, "updated_at": hit.updated_at or now_iso(), "error": hit.error}
    if hit.status == OK:
        entry["error"] = None
    # What the match was made from (the next run looks the movie up again when the user changes it) and the
    # pin it honours; lookups read back from an older checkpoint may have neither.
    if hit.match_inputs:
        entry["match_inputs"] = hit.match_inputs
    if hit.pinned:
        entry["pinned"] = hit.pinned
    entry.update(extra or {})
    return entry


class Enricher(Protocol):
    """What the DoFn calls: `name` is the enricher (`--enrichers`), `enrich` makes its part of one movie."""

    name: str

    def enrich(self, key: str, hit: Lookup) -> EnrichedPart: ...


class MetadataEnricher:
    """Builds the `tmdb` block (`extract.metadata_block`) of a looked-up movie, with the match score."""

    name = "metadata"

    def enrich(self, key: str, hit: Lookup) -> EnrichedPart:
        value = extract.metadata_block(hit.details) if hit.status == OK else None
        score = round(hit.score, 4) if isinstance(hit.score, (int, float)) else None
        return EnrichedPart("metadata", "tmdb", value, outcome(hit, {"match_score": score}), hit.prior,
                            hit.looked_up)


class ImagesEnricher:
    """Builds the `images` block from the looked-up details and the image base URL.

    Args:
        image_base: returns the base URL of TMDB's images (from /configuration); may raise TmdbError, which
            makes the movie's images `failed`.
        poster_size, backdrop_size: TMDB image sizes (`--poster_size`, `--backdrop_size`).
    """

    name = "images"

    def __init__(self, image_base: Callable[[], str], poster_size: str = "w500", backdrop_size: str = "w1280"):
        self._image_base = image_base
        self._poster_size = poster_size
        self._backdrop_size = backdrop_size

    def enrich(self, key: str, hit: Lookup) -> EnrichedPart:
        value = None
        if hit.status == OK:
            try:
                value = extract.images_block(hit.details, self._image_base(), self._poster_size,
                                             self._backdrop_size)
            except TmdbAuthError:
                raise
            except TmdbError as error:
                hit = dataclasses.replace(hit, status=FAILED, error=f"configuration: {error}")
        return EnrichedPart("images", "images", value, outcome(hit), hit.prior, hit.looked_up)


class ImageConfiguration:
    """TMDB's /configuration body per API base URL, fetched once per worker process (held through `Shared`)."""

    def __init__(self) -> None:
        self._bodies: dict[str, dict] = {}
        self._lock = threading.Lock()

    def image_base(self, base_url: str, fetch: Callable[[], dict]) -> str:
        body = self._bodies.get(base_url)
        if body is None:
            with self._lock:  # one request, whichever of the process's threads asks first
                body = self._bodies.get(base_url)
                if body is None:
                    body = self._bodies[base_url] = fetch()
        return extract.image_base(body)


ORDER = ("metadata", "images")  # the order of a movie's parts


class EnrichPartsFn(ClientDoFn):
    """Runs the enrichers a movie needs on its lookup, as one step (see `EnrichMovies`).

    Args:
        settings: the client's `TmdbSettings` (the images enricher reads /configuration).
        enrichers: which enrichers to run: ("metadata", "images") or one of them.
        poster_size, backdrop_size: TMDB image sizes.
        client_factory: builds the client from the settings; tests pass a fake.

    Input: (key, Lookup). Output: (key, [EnrichedPart, ...]) per movie, the parts in `ORDER`, so that a
    movie's parts stay together without a grouping. Counts `<enricher>_<status>` per part.
    """

    def __init__(self, settings: TmdbSettings, enrichers: tuple[str, ...], poster_size: str = "w500",
                 backdrop_size: str = "w1280", client_factory: Callable[[TmdbSettings], Any] = TmdbClient):
        super().__init__(settings, client_factory)
        self._names = tuple(enrichers)
        self._sizes = (poster_size, backdrop_size)
        self._configuration = shared.Shared()  # a key only: the body itself is per process
        self._enrichers: list[Enricher] = []

    def setup(self) -> None:
        made: dict[str, Enricher] = {"metadata": MetadataEnricher()}
        if "images" in self._names:  # only the images enricher makes a request
            super().setup()
            configuration = self._configuration.acquire(ImageConfiguration)
            made["images"] = ImagesEnricher(
                lambda: configuration.image_base(self._settings.base_url, self._fetch_configuration), *self._sizes)
        self._enrichers = [made[name] for name in ORDER if name in self._names]
        self._outcomes = {(name, s): Metrics.counter(NAMESPACE, f"{name}_{s}")
                          for name in self._names for s in STATUSES}

    def _fetch_configuration(self) -> dict:
        body = self._client.configuration()
        self._report_requests()
        return body

    def process(self, element: tuple[str, Lookup]) -> Iterable[tuple[str, list[EnrichedPart]]]:
        key, hit = element
        parts = [enricher.enrich(key, hit) for enricher in self._enrichers if enricher.name in hit.enrichers]
        for part in parts:
            self._outcomes[(part.enricher, part.outcome["status"])].inc()
        if parts:
            yield key, parts
