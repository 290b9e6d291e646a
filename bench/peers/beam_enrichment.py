"""Beam's own Enrichment transform (apache_beam.transforms.enrichment) with a handler for the TMDB API.

The graph: the database is read once in a DoFn (its raw bytes go on as one element, the movies that need
work as beam.Row(key, record)), the rows are reshuffled so every worker gets a share, `Enrichment` calls
`TmdbEnrichmentHandler` on batches of rows (its `batch_elements_kwargs`), and one DoFn writes the file once
with every patch as a side input. It runs on Beam's in-process engine (the FnApiRunner, as the pipeline does:
the DirectRunner would first try to download the Prism binary) with --direct_num_workers worker threads.

What bounds it: Enrichment's DoFn makes one blocking call at a time (each call goes through a fresh
one-thread executor for its timeout), so at most --direct_num_workers requests are in flight, whatever the
batch size; batching only saves per-call overhead.

    python -m bench.peers.beam_enrichment --input IN --output OUT --base-url URL --api-key K [--workers 4]
"""

from __future__ import annotations

import sys
import threading
from typing import Any, Iterable

import apache_beam as beam
import orjson
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.transforms.enrichment import Enrichment, EnrichmentSourceHandler

from bench.peers import common

_SHARED_LOCK = threading.Lock()
_LIMITERS: dict[float, common.RateLimiter] = {}
_IMAGE_BASE: dict[str, str] = {}


def _limiter(rate: float) -> common.RateLimiter:
    """One limiter for every handler of the process, so the rate holds whatever the number of workers."""
    with _SHARED_LOCK:
        return _LIMITERS.setdefault(rate, common.RateLimiter(rate))


class TmdbEnrichmentHandler(EnrichmentSourceHandler):
    """Looks up a beam.Row(key, record) on TMDB: search, then details with credits, external_ids and images.

    Given a batch (a list of rows, since `batch_elements_kwargs` is set), it answers a list of (row, response)
    pairs; the response is beam.Row(key, patch) with the same patch the pipeline writes.
    """

    def __init__(self, base_url: str, api_key: str, rate: float = 0.0, min_batch: int = 5, max_batch: int = 50):
        self._base_url = base_url
        self._api_key = api_key
        self._rate = rate
        self._min_batch = min_batch
        self._max_batch = max_batch
        self._client: common.Client | None = None
        self._image_base = ""

    def __enter__(self):
        self._client = common.Client(self._base_url, self._api_key, pool=1, limiter=_limiter(self._rate))
        with _SHARED_LOCK:  # /configuration once per process, not once per DoFn instance
            if self._base_url not in _IMAGE_BASE:
                _IMAGE_BASE[self._base_url] = common.image_base(self._client)
            self._image_base = _IMAGE_BASE[self._base_url]
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        if self._client is not None:
            self._client.close()
            self._client = None
        return None

    def _one(self, row: beam.Row) -> tuple[beam.Row, beam.Row]:
        patch = common.enrich_one(self._client, self._image_base, row.key, orjson.loads(row.record))
        return row, beam.Row(key=row.key, patch=orjson.dumps(patch).decode("utf-8"))

    def __call__(self, request, *args, **kwargs):
        if isinstance(request, list):
            return [self._one(row) for row in request]
        return self._one(request)

    def get_cache_key(self, request: beam.Row) -> str:
        return request.key

    def batch_elements_kwargs(self) -> dict[str, Any]:
        return {"min_batch_size": self._min_batch, "max_batch_size": self._max_batch}


class ReadDatabaseFn(beam.DoFn):
    """Reads the file once: its bytes go to the `snapshot` output, the movies that need work to the main one."""

    def __init__(self, limit: int = 0):
        self._limit = limit

    def process(self, path: str) -> Iterable[Any]:
        with open(path, "rb") as handle:
            data = handle.read()
        db = orjson.loads(data)
        yield beam.pvalue.TaggedOutput("snapshot", data)
        for key in common.pending_keys(db, self._limit):
            yield beam.Row(key=key, record=orjson.dumps(db[key]).decode("utf-8"))


class WriteDatabaseFn(beam.DoFn):
    """Writes the database once, every patch applied, after all of them have arrived (a side input)."""

    def __init__(self, output: str):
        self._output = output

    def process(self, data: bytes, patches: list[tuple[str, str]]) -> Iterable[int]:
        db = orjson.loads(data)
        for key, patch in patches:
            db[key] = {**db[key], **orjson.loads(patch)}
        common.save_orjson(self._output, db)
        yield len(patches)


def build(p: beam.Pipeline, args) -> None:
    read = (p
            | "Path" >> beam.Create([args.input])
            | "Read" >> beam.ParDo(ReadDatabaseFn(args.limit)).with_outputs("snapshot", main="rows"))
    handler = TmdbEnrichmentHandler(args.base_url, args.api_key, args.max_requests_per_second,
                                    args.min_batch, args.max_batch)
    patches = (read.rows
               | "Spread" >> beam.Reshuffle()
               | "Enrich" >> Enrichment(handler, join_fn=lambda row, response: (row.key, response.patch),
                                        use_custom_types=True, timeout=600))
    read.snapshot | "Write" >> beam.ParDo(WriteDatabaseFn(args.output), patches=beam.pvalue.AsList(patches))


def main(argv=None) -> int:
    parser = common.parser(__doc__)
    parser.add_argument("--workers", type=int, default=4, help="--direct_num_workers (default 4)")
    parser.add_argument("--min-batch", type=int, default=5)
    parser.add_argument("--max-batch", type=int, default=50)
    args = parser.parse_args(argv)
    options = PipelineOptions(["--direct_num_workers", str(args.workers),
                               "--direct_running_mode", "multi_threading"])
    with beam.Pipeline(runner=FnApiRunner(), options=options) as p:
        build(p, args)
    print(f"beam_enrichment: done with {args.workers} workers", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
