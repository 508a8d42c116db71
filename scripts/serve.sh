#!/usr/bin/env bash
# Set up (first time) and run the gateway on http://127.0.0.1:4141. Extra arguments go to `byway serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/byway serve "$@"
