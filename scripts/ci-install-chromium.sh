#!/usr/bin/env bash
# Installs Debian's Chromium for the Web UI browser test (test/ui/web-ui.test.ts drives it with
# playwright-core, which never downloads a browser); fonts-liberation so screenshots show text.
# Idempotent: does nothing when chromium is there.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null | tail -n 1)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium fonts-liberation
/usr/bin/chromium --version | tail -n 1
