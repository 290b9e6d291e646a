"""The old code: for each movie, load the whole database file, enrich that one movie, save the whole file.

Written the way the original script was: the stdlib json module, `json.load` and `json.dump`, the file
opened anew for every movie, so the work and the file I/O grow with the database times the movies to do.

    python -m bench.peers.n_plus_one --input IN --output OUT --base-url URL --api-key K
"""

import json
import shutil
import sys

from bench.peers import common


def load(path: str) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def save(path: str, db: dict) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(db, handle, indent=2, ensure_ascii=False)
        handle.write("\n")


def main(argv=None) -> int:
    args = common.parser(__doc__).parse_args(argv)
    if args.output != args.input:
        shutil.copyfile(args.input, args.output)
    client = common.Client(args.base_url, args.api_key, pool=1,
                           limiter=common.RateLimiter(args.max_requests_per_second))
    base = common.image_base(client)
    todo = common.pending_keys(load(args.output), args.limit)
    for key in todo:
        db = load(args.output)
        db[key] = {**db[key], **common.enrich_one(client, base, key, db[key])}
        save(args.output, db)
    client.close()
    print(f"n_plus_one: enriched {len(todo)} movies", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
