"""Load once, enrich movie by movie with one requests.Session, save once.

    python -m bench.peers.load_once --input IN --output OUT --base-url URL --api-key K
"""

import sys

from bench.peers import common


def main(argv=None) -> int:
    args = common.parser(__doc__).parse_args(argv)
    db = common.load_orjson(args.input)
    client = common.Client(args.base_url, args.api_key, pool=1,
                           limiter=common.RateLimiter(args.max_requests_per_second))
    base = common.image_base(client)
    todo = common.pending_keys(db, args.limit)
    for key in todo:
        db[key] = {**db[key], **common.enrich_one(client, base, key, db[key])}
    client.close()
    common.save_orjson(args.output, db)
    print(f"load_once: enriched {len(todo)} movies", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
