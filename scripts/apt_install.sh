#!/usr/bin/env bash
# Install Debian packages as root (or through sudo); without either, say what is missing
# and how to install it, and fail. Usage: apt_install.sh package...
set -euo pipefail
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "MISSING: $*. Install as root: apt-get install $*" >&2
    exit 1
  fi
fi
echo "installing $* from Debian's packages..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
