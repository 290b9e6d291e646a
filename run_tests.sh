#!/usr/bin/env bash
# Runs the whole test suite (unit, pipeline, end-to-end against the bundled local server, fault mix).
# Extra arguments pass through to pytest, e.g. ./run_tests.sh -k matching -x
set -euo pipefail
cd "$(dirname "$0")"
. scripts/venv.sh
exec "$VENV/bin/python" -m pytest "$@"
