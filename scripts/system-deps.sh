#!/usr/bin/env bash
# Debian packages some tests use: Chromium (the report rendered in a real browser).
# Installs what is missing when run as root (CI, a fresh machine); otherwise says what the
# tests that need them will skip. Idempotent: a no-op once everything is there.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "system-deps: not root; missing ${missing[*]}: the tests that need them will skip" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system-deps: installed ${missing[*]}"
