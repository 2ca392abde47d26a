#!/usr/bin/env bash
# Debian packages some tests use: Chromium (the report rendered in a real browser),
# openssl (a throwaway TLS certificate for the HTTPS fetch tests), and PostgreSQL and Redis (tests/test_celery_stack.py runs the compose stack's metadata DB and
# Celery broker as throwaway local servers; their system services are not used).
# Installs what is missing when run as root (CI, a fresh machine); otherwise says what the
# tests that need them will skip. Idempotent: a no-op once everything is there.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "system-deps: not root; missing ${missing[*]}: the tests that need them will fail" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Debian's packages start their services when a service manager runs; the tests need none.
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system-deps: installed ${missing[*]}"
