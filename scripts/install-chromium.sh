#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests (tests/browser). Playwright drives it through
# executable_path; never run `playwright install`. A no-op when `chromium` is already on PATH.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
  echo "install-chromium: $(command -v chromium) is already installed"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install-chromium: run as root (apt-get install -y chromium)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends chromium
command -v chromium
