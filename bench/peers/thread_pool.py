"""Load once, enrich with a ThreadPoolExecutor of --concurrency threads sharing one Session, save once.

The Session's connection pool has as many connections as there are threads, and a --max-requests-per-second
limit is shared by every thread, evenly spaced, as the pipeline's is.

    python -m bench.peers.thread_pool --input IN --output OUT --base-url URL --api-key K --concurrency 16
"""

import concurrent.futures
import sys

from bench.peers import common


def main(argv=None) -> int:
    args = common.parser(__doc__).parse_args(argv)
    db = common.load_orjson(args.input)
    client = common.Client(args.base_url, args.api_key, pool=args.concurrency,
                           limiter=common.RateLimiter(args.max_requests_per_second))
    base = common.image_base(client)
    todo = common.pending_keys(db, args.limit)
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        patches = pool.map(lambda key: common.enrich_one(client, base, key, db[key]), todo)
        for key, patch in zip(todo, patches):
            db[key] = {**db[key], **patch}
    client.close()
    common.save_orjson(args.output, db)
    print(f"thread_pool: enriched {len(todo)} movies with {args.concurrency} threads", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
