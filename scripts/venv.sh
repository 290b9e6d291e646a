# Sourced by run_local.sh and run_tests.sh: makes .venv (or $VENV) with this package installed, once.
# Installs the tested versions pinned in constraints.txt (setup.py keeps the ranges); reinstalls when setup.py,
# constraints.txt or the Python version changes, so a fresh clone and an updated one both just work.
# CONSTRAINTS= (empty) installs the newest versions within setup.py's ranges instead: scripts/refresh_constraints.sh
# does that to test and pin a new set.
VENV=${VENV:-.venv}
PYTHON_BIN=${PYTHON:-python3}
CONSTRAINTS=${CONSTRAINTS-constraints.txt}
if [ ! -x "$VENV/bin/python" ]; then
  echo "Creating the virtual environment $VENV ..." >&2
  "$PYTHON_BIN" -m venv "$VENV"
fi
_pins=()
if [ -n "$CONSTRAINTS" ] && [ ! -f "$CONSTRAINTS" ]; then
  echo "No constraints file $CONSTRAINTS (CONSTRAINTS= installs without pins)" >&2
  exit 1
fi
if [ -n "$CONSTRAINTS" ]; then
  # The pins were tested on one Python version (the first line of the file says which); wheels such as numpy's
  # differ between versions, so on another one the ranges of setup.py apply.
  _pinned_python="$(sed -n '1s/^# python \([0-9.]*\).*/\1/p' "$CONSTRAINTS")"
  _python="$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  if [ "$_pinned_python" = "$_python" ]; then
    _pins=(-c "$CONSTRAINTS")
  else
    echo "Note: $CONSTRAINTS pins versions tested on Python $_pinned_python; $VENV has Python $_python," \
         "so the newest versions within setup.py's ranges are installed." >&2
  fi
fi
_stamp="$VENV/.movie_enrichment-installed"
_want="$( { cat setup.py; [ ${#_pins[@]} -eq 0 ] || cat "$CONSTRAINTS"; "$VENV/bin/python" --version; } | sha256sum | cut -d' ' -f1)"
if [ ! -f "$_stamp" ] || [ "$(cat "$_stamp")" != "$_want" ]; then
  echo "Installing movie_enrichment and its dependencies into $VENV (once; log in $VENV/install.log) ..." >&2
  if ! { "$VENV/bin/python" -m pip install --disable-pip-version-check ${_pins[@]+"${_pins[@]}"} --upgrade pip &&
         "$VENV/bin/python" -m pip install --disable-pip-version-check ${_pins[@]+"${_pins[@]}"} -e ".[test,bench,console]"
       } > "$VENV/install.log" 2>&1; then
    tail -n 30 "$VENV/install.log" >&2
    echo "Installing failed; the whole log is in $VENV/install.log" >&2
    exit 1
  fi
  echo "$_want" > "$_stamp"
fi
