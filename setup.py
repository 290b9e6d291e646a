"""Packaging, also usable as Beam's --setup_file so remote workers install the same package."""

import setuptools

setuptools.setup(
    name="movie-enrichment",
    version="0.1.0",
    description="Enrich a movie database JSON file with TMDB metadata and images, as an Apache Beam pipeline",
    packages=setuptools.find_packages(include=["movie_enrichment", "movie_enrichment.*"]),
    package_data={"movie_enrichment.testing": ["data/*.json"],
                  "movie_enrichment.console": ["templates/*.html", "static/*"]},
    python_requires=">=3.10",
    # What a run needs, and all a cluster's workers install (--setup_file): the pipeline and its HTTP client.
    install_requires=[
        "apache-beam>=2.60,<3",
        # The TMDB client is urllib3 itself, requests' own transport, not requests over it: 260 us of CPU per
        # request instead of 750 us, measured (bench/RESULTS.md, "The HTTP cache's cost").
        "urllib3>=2",
        "orjson>=3.9",
        # The HTTP cache's compression (3x faster than zlib on its small bodies); Apache Beam requires it too.
        "zstandard>=0.22",
        # 4.3: a lock file that its holder removes (a refused run leaves none behind) is taken afresh by a waiter.
        "filelock>=4.3",
        "tqdm>=4.66",
        "python-dateutil>=2.8,<3",
        # --download_images: Pillow decodes each image (its size; a corrupt or truncated one is refused) and makes
        # the thumbnail that blurhash-python hashes (a C encoder with wheels for CPython 3.8-3.12 on Linux, macOS
        # and Windows: ~1 ms an image, where the pure-Python `blurhash` takes ~50x that). The bundled TMDB server
        # draws its JPEGs with Pillow too.
        "Pillow>=10",
        "blurhash-python>=1.2,<2",
    ],
    extras_require={
        # The admin console (movie-enrich serve): an ASGI app, its server and server-rendered templates.
        "console": ["starlette>=0.37,<2", "uvicorn>=0.29,<1", "jinja2>=3.1,<4"],
        # PostgreSQL stores (postgresql://...); SQLite stores need nothing beyond the standard library.
        "postgres": ["psycopg[binary]>=3.1,<4"],
        # requests: the test server's own tests call it as a third-party client would. cloudpickle: the pickler
        # Dask and Ray ship functions with, which every DoFn of the pipeline must pass (Beam ships its own copy).
        "test": ["pytest>=7", "ruff>=0.4", "hypothesis>=6", "psycopg[binary]>=3.1,<4",
                 "selenium>=4.20,<5", "httpx>=0.27", "requests>=2.31", "pytest-xdist>=3.5", "cloudpickle>=3"],
        # Beam's own Enrichment transform, for the benchmark peer only: it needs google-api-core. requests: the
        # peers' hand-written clients; httpx: the console benchmark's client.
        "bench": ["google-api-core", "psutil", "requests>=2.31", "httpx>=0.27"],
    },
    entry_points={"console_scripts": ["movie-enrich=movie_enrichment.cli:command"]},
)
