#!/usr/bin/env bash
# The test command of the README: sets up .venv on first use, then runs the whole suite
# (slow end-to-end tests included). Extra arguments go to pytest, e.g. `bash tools/test.sh -m "not slow"`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/tools/bootstrap.sh"
bash "$ROOT/tools/fetch_timm_tests.sh"  # timm's own model tests, run by tests/test_timm_conformance.py
cd "$ROOT"
set +e
# two workers (pytest-xdist), whole modules each so module-scoped fixtures are built once; one thread per
# worker (tests/conftest.py), modules in the order tests/conftest.py sorts them (long ones first).
# LGVIT_TEST_WORKERS=0 runs in this process.
"$ROOT/.venv/bin/python" -m pytest -n "${LGVIT_TEST_WORKERS:-2}" --dist loadfile --no-loadscope-reorder "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
    echo "pytest collected no tests: treating as a failure" >&2
    exit 1
fi
exit "$rc"
