#!/usr/bin/env bash
# Install Debian's wrk (the storefront bench's HTTP load generator, bench/storefront.py) when absent.
set -euo pipefail
if command -v wrk >/dev/null; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "MISSING: wrk. Install it as root: apt-get install wrk" >&2
    exit 1
  fi
fi
echo "installing wrk from Debian's packages..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >/dev/null
wrk --version 2>&1 | head -1 || true
