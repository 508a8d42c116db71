#!/usr/bin/env bash
# Set up (first time) and run every check: lint, then the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
# The store tests start a PostgreSQL server of their own (and fail without one when CI=true):
# install the binaries when they are missing and we may (root, apt).
if ! command -v pg_ctl >/dev/null 2>&1 && ! compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing PostgreSQL for the store tests (apt-get)" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "PostgreSQL is not installed: the store tests' PostgreSQL half will be skipped (CI=true fails)" >&2
  fi
fi
.venv/bin/ruff check byway tests scripts
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
