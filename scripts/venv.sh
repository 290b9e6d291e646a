# Sourced by run_local.sh and run_tests.sh: makes .venv (or $VENV) with this package installed, once.
# Reinstalls when setup.py changes, so a fresh clone and an updated one both just work.
VENV=${VENV:-.venv}
PYTHON_BIN=${PYTHON:-python3}
if [ ! -x "$VENV/bin/python" ]; then
  echo "Creating the virtual environment $VENV ..." >&2
  "$PYTHON_BIN" -m venv "$VENV"
fi
_stamp="$VENV/.movie_enrichment-installed"
_want="$(cat setup.py | sha256sum | cut -d' ' -f1)"
if [ ! -f "$_stamp" ] || [ "$(cat "$_stamp")" != "$_want" ]; then
  echo "Installing movie_enrichment and its dependencies into $VENV ..." >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[test]" >&2
  echo "$_want" > "$_stamp"
fi
