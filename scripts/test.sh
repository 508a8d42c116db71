#!/usr/bin/env bash
# Set up (first time) and run every check: lint, then the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
.venv/bin/ruff check byway tests scripts
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
