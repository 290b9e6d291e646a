#!/usr/bin/env bash
# Installs the headless browser the console's browser tests drive: Debian's Chromium and its chromedriver
# (Selenium talks to the driver; no browser build is downloaded at run time). Does nothing when both are there.
# Needs root (CI runs as root); elsewhere it says what to install and exits 0, and the browser tests skip
# (unless ME_REQUIRE_BROWSER=1, which turns that skip into a failure, as CI sets it).
set -euo pipefail
have() { command -v "$1" >/dev/null 2>&1; }
if have chromium && have chromedriver; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install_browser.sh: chromium and chromedriver are missing; as root: apt-get install -y chromium chromium-driver" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-dejavu-core >/dev/null
have chromium && have chromedriver
