#!/usr/bin/env bash
# Fetches timm's own model tests (tests/test_models.py + conftest.py) from the sdist of the installed,
# pinned timm version into .venv/timm-tests/ (once; cached). tests/test_timm_conformance.py runs them
# against every lgvit model. The files are used as published: only the feature-intermediate module filter
# list is extended with lgvit's model modules, at run time, by the test.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${LGVIT_VENV:-$ROOT/.venv}/bin/python"
DEST="${LGVIT_VENV:-$ROOT/.venv}/timm-tests"
VERSION="$("$PY" -c 'import timm; print(timm.__version__)')"
if [ -f "$DEST/$VERSION/test_models.py" ]; then
    exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "[timm-tests] downloading the timm==$VERSION sdist for its tests/test_models.py"
"$PY" -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
    -d "$tmp" "timm==$VERSION" || { echo "[timm-tests] could not download the timm sdist" >&2; exit 1; }
tar -xzf "$tmp"/timm-"$VERSION".tar.gz -C "$tmp"
mkdir -p "$DEST/$VERSION"
cp "$tmp/timm-$VERSION/tests/test_models.py" "$tmp/timm-$VERSION/tests/conftest.py" "$DEST/$VERSION/"
echo "[timm-tests] $DEST/$VERSION ready"
