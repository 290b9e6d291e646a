#!/usr/bin/env bash
# Runs the linter configured in ruff.toml, then the whole test suite (unit, pipeline, end-to-end against the
# bundled local server, fault mix). A lint finding fails the run before any test. Extra arguments pass through
# to pytest, e.g. ./run_tests.sh -k matching -x
set -euo pipefail
cd "$(dirname "$0")"
. scripts/venv.sh
if ! "$VENV/bin/ruff" check --quiet .; then
  echo "run_tests.sh: lint findings above (ruff.toml); '$VENV/bin/ruff check --fix .' mends many of them" >&2
  exit 1
fi
exec "$VENV/bin/python" -m pytest "$@"
