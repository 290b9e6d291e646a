"""Issue 26 benchmark row: N synthetic films (argv[1], default 2,000) with the defaults (HTTP cache on, default
workers, no rate limit): metadata only, metadata and image links, --download_images, and a rerun with nothing to
download; CPU of the run's process (getrusage of waited children; the server is not waited for). Prints a Markdown
table for bench/RESULTS.md."""

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
    load = os.getloadavg()[0]
    try:
        runs = [("metadata only (`--enrich metadata`)", *run(url, "metadata", "--enrich", "metadata")),
                ("metadata and image links (defaults)", *run(url, "links")),
                ("`--download_images DIR`", *run(url, "download", *images)),
                ("rerun, `--reprocess all` (everything stored)", *run(url, "download", *images, "--reprocess", "all"))]
    finally:
        server.terminate()
    links_wall, links_cpu = runs[1][2], runs[1][3]
    print(f"{N:,} films, {os.cpu_count()} cores, load at start {load:.1f}\n")
    print("| run | exit | wall s | CPU s | images stored | already there | failed | MB | images/s | extra CPU per image |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, rc, wall, cpu, report in runs:
        stored, there = report.get("images_downloaded", 0), report.get("images_skipped", 0)
        handled = stored + there
        per_second = f"{handled / wall:.0f}" if handled else ""
        extra = f"{(cpu - links_cpu) / handled * 1000:.1f} ms" if handled else ""
        print(f"| {name} | {rc} | {wall:.1f} | {cpu:.1f} | {stored} | {there} | {report.get('images_failed', 0)} | "
              f"{report.get('images_bytes', 0) / 1e6:.1f} | {per_second} | {extra} |")
    print(f"\nimages/s: images stored or found over the whole run's wall time; extra CPU per image: the run's CPU "
          f"less the links-only run's ({links_cpu:.1f} s, {links_wall:.1f} s wall), per image handled")

if __name__ == "__main__":
    main()
