"""Issue 26 benchmark row: N synthetic films (argv[1], default 2,000), links only vs --download_images vs a rerun
with nothing to download; CPU of the run's process (getrusage of waited children; the server is not waited for)."""

import json
import os
import pathlib
import resource
import shutil
import subprocess
import sys
import time

from movie_enrichment.testing import synthetic

N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
ROOT = pathlib.Path(sys.argv[2] if len(sys.argv) > 2 else "/tmp/bench_download_images")


def run(url: str, name: str, *extra: str) -> tuple[int, float, float, dict]:
    db = ROOT / f"{name}.json"
    db.write_bytes(synthetic.database(N))
    env = {**os.environ, "TMDB_API_KEY": "test-api-key", "XDG_CACHE_HOME": str(ROOT / "xdg")}
    before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "movie_enrichment", "--input", str(db), "--tmdb_base_url", url,
                           "--http_cache", str(ROOT / f"{name}.sqlite"), "--progress", "off",
                           "--max_requests_per_second", "0", *extra], env=env, capture_output=True, text=True)
    wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return done.returncode, wall, cpu, json.loads((ROOT / f"{name}.json.report.json").read_text())


def main() -> None:
    shutil.rmtree(ROOT, ignore_errors=True)
    ROOT.mkdir(parents=True)
    (ROOT / "catalog.json").write_bytes(json.dumps(synthetic.catalog(N)).encode())
    server = subprocess.Popen([sys.executable, "-m", "movie_enrichment.testing.tmdb_server", "--port", "0",
                               "--catalog", str(ROOT / "catalog.json")], stdout=subprocess.PIPE, text=True)
    url = server.stdout.readline().strip().rsplit(" ", 1)[-1]
    images = ["--download_images", str(ROOT / "img")]
    try:
        rc0, w0, c0, _ = run(url, "links")
        rc1, w1, c1, first = run(url, "download", *images)
        rc2, w2, c2, again = run(url, "download", *images, "--reprocess", "all")
    finally:
        server.terminate()
    count = first.get("images_downloaded", 0)
    print(f"films {N}, links only: exit {rc0}, {w0:.1f} s wall, {c0:.1f} s CPU")
    print(f"--download_images: exit {rc1}, {w1:.1f} s wall, {c1:.1f} s CPU; {count} images, "
          f"{first.get('images_bytes', 0) / 1e6:.1f} MB, failed {first.get('images_failed')}; "
          f"{count / w1:.0f} images/s over the run, {count / max(w1 - w0, 1e-9):.0f}/s of the extra time; "
          f"extra CPU {(c1 - c0) / max(count, 1) * 1000:.2f} ms per image")
    print(f"rerun (--reprocess all): exit {rc2}, {w2:.1f} s wall, {c2:.1f} s CPU; downloaded "
          f"{again.get('images_downloaded')}, already there {again.get('images_skipped')}")


if __name__ == "__main__":
    main()
