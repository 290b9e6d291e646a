#!/usr/bin/env bash
# Makes sure PostgreSQL's server binaries (initdb, pg_ctl, postgres) are on this machine, for the test suite's
# own server (movie_enrichment/testing/postgres.py starts one on 127.0.0.1 per test session).
# Installs Debian's `postgresql` package when they are missing and we are root; otherwise says what to do.
set -euo pipefail
have_server() {
  command -v pg_ctl >/dev/null 2>&1 && return 0
  compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null
}
if have_server; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "PostgreSQL server binaries are missing; as root: apt-get install -y postgresql" >&2
  exit 1
fi
echo "Installing PostgreSQL (Debian's postgresql package) for the tests ..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq postgresql >/dev/null
have_server
# The server refuses to run as root: the suite runs it as the package's `postgres` system user.
id postgres >/dev/null
