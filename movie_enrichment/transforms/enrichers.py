"""The enrichers (plain classes that turn a movie's lookup into its `tmdb` and `images` parts) and the DoFn that
runs them."""

import dataclasses
import threading
from typing import Any, Callable, Iterable, Protocol

from apache_beam.metrics import Metrics
from apache_beam.utils import shared

from movie_enrichment.io.tmdb import DEFAULT_CERTIFICATION_COUNTRIES, TmdbAuthError, TmdbClient, TmdbError, TmdbSettings
from movie_enrichment.model import FAILED, NAMESPACE, OK, REMOVED, STATUSES, EnrichedPart, Lookup, now_iso
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
    # Who the film is (issue 25): why this match, the id TMDB removed it under, the id a removed film had.
    if hit.status == OK and hit.match:
        entry["match"] = hit.match
    if hit.previous_tmdb_id:
        entry["previous_tmdb_id"] = hit.previous_tmdb_id
    if hit.status == REMOVED:
        entry["tmdb_id"] = hit.tmdb_id
    entry.update(extra or {})
    return entry


class Enricher(Protocol):
    """What the DoFn calls: `name` is the enricher (`--enrichers`), `enrich` makes its part of one movie."""

    name: str

    def enrich(self, key: str, hit: Lookup) -> EnrichedPart: ...


def derived_with(settings: TmdbSettings) -> dict[str, dict | None]:
    """Per enricher, the options its block is derived with, where they are not the defaults; None otherwise.
    The outcome keeps them (`enrichment.<enricher>.options`), so that a run with other options derives the
    block again (from the cached body: no request), and one with the same leaves it."""
    metadata = {}
    if settings.languages:
        metadata["language"] = ",".join(settings.languages)
    if tuple(settings.certification_countries) != DEFAULT_CERTIFICATION_COUNTRIES:
        metadata["certification_countries"] = ",".join(settings.certification_countries)
    order = extract.image_order(settings.languages, settings.image_languages)
    images = None if order is None else {"image_languages": ",".join("null" if code is None else code
                                                                     for code in order)}
    return {"metadata": metadata or None, "images": images}


def _options(options: dict | None) -> dict:
    return {"options": options} if options else {}


class MetadataEnricher:
    """Builds the `tmdb` block (`extract.metadata_block`) of a looked-up movie, with the match score.

    Args:
        settings: the run's `TmdbSettings`: its language chain and certification countries (None: the defaults).
        image_base: returns the base URL of TMDB's images, for a collection's poster and backdrop (asked only for
            a film in a collection); may raise TmdbError, which makes the movie's metadata `failed`.
        poster_size, backdrop_size: TMDB image sizes, for the collection's.
    """

    name = "metadata"

    def __init__(self, settings: TmdbSettings | None = None, image_base: Callable[[], str] | None = None,
                 poster_size: str = "w500", backdrop_size: str = "w1280"):
        self._languages = tuple(settings.languages) if settings else ()
        self._countries = tuple(settings.certification_countries) if settings else DEFAULT_CERTIFICATION_COUNTRIES
        self._options = derived_with(settings)["metadata"] if settings else None
        self._image_base = image_base
        self._sizes = (poster_size, backdrop_size)

    def enrich(self, key: str, hit: Lookup) -> EnrichedPart:
        value = None
        if hit.status == OK:
            try:
                base = self._image_base() if self._image_base is not None and _in_collection(hit.details) \
                    else extract.DEFAULT_IMAGE_BASE
                value = extract.metadata_block(hit.details, self._languages, self._countries, base, *self._sizes)
            except TmdbAuthError:
                raise
            except TmdbError as error:
                hit = dataclasses.replace(hit, status=FAILED, error=f"configuration: {error}")
        score = round(hit.score, 4) if isinstance(hit.score, (int, float)) else None
        return EnrichedPart("metadata", "tmdb", value,
                            outcome(hit, {"match_score": score, **_options(self._options)}), hit.prior,
                            hit.looked_up)


def _in_collection(details: dict | None) -> bool:
    found = (details or {}).get("belongs_to_collection")
    return isinstance(found, dict) and bool(found.get("poster_path") or found.get("backdrop_path"))


class ImagesEnricher:
    """Builds the `images` block from the looked-up details and the image base URL.

    Args:
        image_base: returns the base URL of TMDB's images (from /configuration); may raise TmdbError, which
            makes the movie's images `failed`.
        poster_size, backdrop_size: TMDB image sizes (`--poster_size`, `--backdrop_size`).
        settings: the run's `TmdbSettings`, for the order of image languages (`extract.image_order`); None:
            TMDB's own choice.
    """

    name = "images"

    def __init__(self, image_base: Callable[[], str], poster_size: str = "w500", backdrop_size: str = "w1280",
                 settings: TmdbSettings | None = None):
        self._image_base = image_base
        self._poster_size = poster_size
        self._backdrop_size = backdrop_size
        self._order = extract.image_order(settings.languages, settings.image_languages) if settings else None
        self._options = derived_with(settings)["images"] if settings else None

    def enrich(self, key: str, hit: Lookup) -> EnrichedPart:
        value = None
        if hit.status == OK:
            try:
                value = extract.images_block(hit.details, self._image_base(), self._poster_size,
                                             self._backdrop_size, order=self._order)
            except TmdbAuthError:
                raise
            except TmdbError as error:
                hit = dataclasses.replace(hit, status=FAILED, error=f"configuration: {error}")
        return EnrichedPart("images", "images", value, outcome(hit, _options(self._options)), hit.prior,
                            hit.looked_up)


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
        settings: the client's `TmdbSettings` (the image URLs need /configuration), with the run's language
            chain, certification countries and image order.
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
        # The one request made here is /configuration, once per process and only when an image URL is made:
        # the images enricher's, a collection's poster.
        super().setup()
        configuration = self._configuration.acquire(ImageConfiguration)

        def image_base() -> str:
            return configuration.image_base(self._settings.base_url, self._fetch_configuration)

        made: dict[str, Enricher] = {"metadata": MetadataEnricher(self._settings, image_base, *self._sizes),
                                     "images": ImagesEnricher(image_base, *self._sizes, settings=self._settings)}
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
