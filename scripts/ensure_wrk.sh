#!/usr/bin/env bash
# Install Debian's wrk (the storefront bench's HTTP load generator, bench/storefront.py) when absent.
set -euo pipefail
if command -v wrk >/dev/null; then
  exit 0
fi
bash "$(dirname "$0")/apt_install.sh" wrk
wrk --version 2>&1 | head -1 || true
