#!/usr/bin/env python
"""Writes the synthetic COCO-format detection datasets (deterministic, a few seconds).

    python tools/make_shapes_dataset.py                       # all splits into the default directory
    python tools/make_shapes_dataset.py --out /tmp/shapes --splits shapes_train shapes_val

Splits: shapes_train/_val (circle/square/triangle, boxes + polygon masks) and shapes_kp_train/_val
(stick figures with 5 named keypoints and a flip map). ``import lgvit_det`` registers them under these
names and generates them on first use anyway; this tool writes them ahead, or elsewhere.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "projects" / "LGViTDet"))  # uninstalled checkout


def main(argv: list[str] | None = None) -> int:
    from lgvit_det.datasets import SHAPES_SPLITS, shapes_root
    from lgvit_det.shapes import write_split

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", default=None, help=f"output directory (default: {shapes_root()})")
    parser.add_argument("--splits", nargs="*", default=list(SHAPES_SPLITS), choices=list(SHAPES_SPLITS))
    args = parser.parse_args(argv)
    root = Path(args.out) if args.out else shapes_root()
    for name in args.splits:
        json_file, image_root = write_split(root, name, SHAPES_SPLITS[name])
        data = json.loads(json_file.read_text())
        print(f"{name}: {len(data['images'])} images, {len(data['annotations'])} annotations -> {json_file}")
    if args.out:
        print(f"use it with: LGVIT_SHAPES_DIR={root.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
