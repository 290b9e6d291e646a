#!/usr/bin/env bash
# The benchmark suite in one command: every scenario, side by side with its peers, written to bench/RESULTS.md.
#   bench/run.sh            the full suite (~50 minutes on 2 cores, most of it the 50,000-movie scenario C)
#   bench/run.sh --quick    small sizes (~2 minutes), written to bench/out/RESULTS.quick.md
#   bench/run.sh --only S1,S5   some scenarios only (S5: several runs at once on one API key), merged with the
#                               saved results of the others; without those, only their parts of RESULTS.md change
# Needs the bench extra (google-api-core for Beam's Enrichment peer, psutil) and, for the profiles and the file
# I/O counts, py-spy and strace; missing Python packages are installed into the venv here.
# Scratch data (about 1 GB for the full suite) goes to bench/out/, which git ignores;
# `bench/run.sh --rerender` rewrites bench/RESULTS.md from the last run's saved results without running anything.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
if ! "$VENV/bin/python" -c "import google.api_core, psutil" 2>/dev/null; then
  echo "bench: installing the bench extra (google-api-core, psutil) into $VENV ..." >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[bench]" >&2
fi
if [ ! -x "$VENV/bin/py-spy" ]; then
  echo "bench: installing py-spy (profiles) into $VENV ..." >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check py-spy >&2 || \
    echo "bench: py-spy unavailable; profiles will have the timeline only" >&2
fi
if ! command -v strace >/dev/null; then
  echo "bench: strace is missing (apt-get install -y strace); the file I/O scenario S4 will be skipped" >&2
fi
exec "$VENV/bin/python" -m bench.run "$@"
