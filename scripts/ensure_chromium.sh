#!/usr/bin/env bash
# Install Debian's Chromium and CJK fonts for the browser tests when absent.
# (Playwright's own browser download does not work here; we drive /usr/bin/chromium.)
set -euo pipefail
if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "MISSING: /usr/bin/chromium (and fonts-noto-cjk). Install them as root: apt-get install chromium fonts-noto-cjk" >&2
    exit 1
  fi
fi
echo "installing chromium and fonts-noto-cjk from Debian's packages..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
/usr/bin/chromium --version
