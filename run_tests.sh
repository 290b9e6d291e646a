#!/usr/bin/env bash
# Runs the linter configured in ruff.toml, then the tests; a lint finding fails the run before any test.
#   ./run_tests.sh           the whole suite, what CI runs: unit, pipeline, end to end against the bundled local
#                            server, crash and signal, fault mix, bad inputs, database stores, the console in a
#                            browser; spread over worker processes by pytest-xdist (two per core)
#   ./run_tests.sh --quick   the fast tier, for the edit-test loop: every test but those marked e2e, slow,
#                            postgres or browser (pytest.ini says what each marker means)
# Extra arguments pass through to pytest and win over these, e.g. ./run_tests.sh --quick -k matching -x, or
# ./run_tests.sh -n 0 --pdb to run in one process.
set -euo pipefail
cd "$(dirname "$0")"
tier=()
if [ "${1:-}" = "--quick" ]; then
  shift
  tier=(-m "not e2e and not slow and not postgres and not browser")
fi
. scripts/venv.sh
if ! "$VENV/bin/ruff" check --quiet .; then
  echo "run_tests.sh: lint findings above (ruff.toml); '$VENV/bin/ruff check --fix .' mends many of them" >&2
  exit 1
fi
# Two workers per core: much of the whole suite waits (real processes against a deliberately slow local server,
# timers), and measured on 2 cores 4 workers took 5.7 minutes where 2 took 6.9. --dist loadfile: a file's tests
# share one worker, so a module fixture (a corpus of runs, a reference run) runs once.
workers=$(( 2 * $(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1) ))
exec "$VENV/bin/python" -m pytest -n "$workers" --dist loadfile ${tier[@]+"${tier[@]}"} "$@"
