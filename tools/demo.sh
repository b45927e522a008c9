#!/usr/bin/env bash
# The main command of the README: sets up .venv on first use, then runs the demo (tools/demo.py).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/tools/bootstrap.sh"
cd "$ROOT"
exec "$ROOT/.venv/bin/python" "$ROOT/tools/demo.py" "$@"
