"""Helpers of the scripts in ``tools/``: benchmarking (procfs peak memory, interleaved timing, tables), the
papers' reference numbers, detector complexity and speed, and the detection/segmentation demos.

They live here, beside the scripts that use them, so that ``import lgvit`` stays models, layers and
checkpoints only. Scripts put this folder on ``sys.path`` and ``import lgvit_tools`` (never ``tools.x``:
the detectron2 wheel installs a top-level ``tools`` package). Importing this package also puts the
checkout and its Detectron2 project on ``sys.path``, so the tools run from a checkout without installing.
"""

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
for _p in (REPO_ROOT / "projects" / "LGViTDet", REPO_ROOT):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))
