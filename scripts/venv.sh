# Sourced by run_local.sh and run_tests.sh: makes .venv (or $VENV) with this package installed, once.
# Reinstalls when setup.py changes, so a fresh clone and an updated one both just work.
VENV=${VENV:-.venv}
PYTHON_BIN=${PYTHON:-python3}
if [ ! -x "$VENV/bin/python" ]; then
  echo "Creating the virtual environment $VENV ..." >&2
  "$PYTHON_BIN" -m venv "$VENV"
fi
_stamp="$VENV/.movie_enrichment-installed"
_want="$(sha256sum setup.py | cut -d' ' -f1)"
if [ ! -f "$_stamp" ] || [ "$(cat "$_stamp")" != "$_want" ]; then
  echo "Installing movie_enrichment and its dependencies into $VENV (once; log in $VENV/install.log) ..." >&2
  if ! { "$VENV/bin/python" -m pip install --disable-pip-version-check --upgrade pip &&
         "$VENV/bin/python" -m pip install --disable-pip-version-check -e ".[test,bench]"; } > "$VENV/install.log" 2>&1; then
    tail -n 30 "$VENV/install.log" >&2
    echo "Installing failed; the whole log is in $VENV/install.log" >&2
    exit 1
  fi
  echo "$_want" > "$_stamp"
fi
