#!/usr/bin/env bash
# Creates .venv on first use and installs everything lgvit needs (torch, timm, detectron2, the video
# stack, test tools). Safe to run again: it reinstalls only when pyproject.toml or this script changed.
# Sourced by tools/demo.sh and tools/test.sh; run it directly to (re)install.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${LGVIT_VENV:-$ROOT/.venv}"
PY_BOOT="${LGVIT_PYTHON:-python3}"
PY="$VENV/bin/python"
D2_WHEEL_VERSION="0.7.2"

say() { printf '[bootstrap] %s\n' "$*"; }
die() { printf '[bootstrap] ERROR: %s\n' "$*" >&2; exit 1; }

# 1. The virtual environment.
if [ ! -x "$PY" ]; then
    "$PY_BOOT" -c 'import sys; assert sys.version_info[:2] >= (3, 10), sys.version' 2>/dev/null \
        || die "need Python >= 3.10 as '$PY_BOOT' (set LGVIT_PYTHON=/path/to/python3.11)"
    say "creating virtual environment in $VENV"
    "$PY_BOOT" -m venv "$VENV"
fi

stamp="$VENV/.lgvit-install-stamp"
want="$(cat "$ROOT/pyproject.toml" "$ROOT/tools/bootstrap.sh" | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$PY" -c 'import lgvit, detectron2' 2>/dev/null; then
    return 0 2>/dev/null || exit 0
fi

# 2. lgvit with every extra (torch, timm, fvcore, pycocotools, pytorchvideo, av, decord, pytest, ruff).
say "installing lgvit and its pinned dependencies (first run downloads torch: a few minutes)"
"$PY" -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24" >/dev/null
"$PY" -m pip install --quiet --disable-pip-version-check -e "$ROOT[all]" \
    || die "pip could not install lgvit's dependencies (see the pip error above)"

# 3. detectron2. Keep an importable install (e.g. upstream built from GitHub); otherwise take the
#    registry's `sal-detectron2` build of upstream detectron2. Its only wheel is tagged cp310, but the
#    package is pure Python apart from an optional `_C` extension, so it is installed under a
#    py3-none-any name (see DESIGN.md, "Environment facts").
if "$PY" -c 'import detectron2' 2>/dev/null; then
    say "detectron2 already importable: $("$PY" -c 'import detectron2, os; print(os.path.dirname(detectron2.__file__))')"
else
    say "installing detectron2 (sal-detectron2==$D2_WHEEL_VERSION, pure-Python part)"
    wheels="$VENV/wheels"
    mkdir -p "$wheels"
    "$PY" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
        --python-version 3.10 -d "$wheels" "sal-detectron2==$D2_WHEEL_VERSION" \
        || die "could not download sal-detectron2==$D2_WHEEL_VERSION; install upstream detectron2 yourself (README.md, 'Detectron2 from GitHub') and run this script again"
    src="$(ls "$wheels"/sal_detectron2-"$D2_WHEEL_VERSION"-*.whl | grep -v py3-none-any | head -n1)"
    dst="$wheels/sal_detectron2-$D2_WHEEL_VERSION-py3-none-any.whl"
    cp "$src" "$dst"
    "$PY" -m pip install --quiet --disable-pip-version-check "$dst" "numpy<2" "setuptools<81" \
        || die "pip could not install $dst"
fi

# 4. Verify the parts of detectron2 that lgvit uses.
PYTHONWARNINGS=ignore "$PY" - <<'PYEOF' || die "detectron2 is installed but not usable (message above). Re-run: bash tools/bootstrap.sh, or install upstream detectron2 (README)."
import importlib, sys
for mod in ("detectron2.modeling", "detectron2.model_zoo", "detectron2.evaluation", "detectron2.engine"):
    try:
        importlib.import_module(mod)
    except Exception as e:  # report the module and the reason, not a bare trace
        sys.exit(f"cannot import {mod}: {type(e).__name__}: {e}")
PYEOF

echo "$want" > "$stamp"
say "environment ready: $VENV"
