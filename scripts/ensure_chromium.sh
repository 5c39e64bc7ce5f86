#!/usr/bin/env bash
# Install Debian's Chromium and CJK fonts for the browser tests when absent.
# (Playwright's own browser download does not work here; we drive /usr/bin/chromium.)
set -euo pipefail
if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
  exit 0
fi
bash "$(dirname "$0")/apt_install.sh" chromium fonts-noto-cjk
/usr/bin/chromium --version
