#!/usr/bin/env python
"""Writes the synthetic semantic-segmentation splits (deterministic, about a second).

    python tools/make_seg_dataset.py                       # both splits into the default directory
    python tools/make_seg_dataset.py --out /tmp/shapes --splits seg_shapes_val

Splits: seg_shapes_train / seg_shapes_val (background + circle / square / triangle label maps, outlines
ignored with 255). ``import lgvit_det`` registers them and generates them on first use anyway; this tool
writes them ahead, or elsewhere.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "projects" / "LGViTDet"))  # uninstalled checkout


def main(argv: list[str] | None = None) -> int:
    from lgvit_det.datasets import shapes_root
    from lgvit_det.seg_data import SEG_SPLITS, load_seg_split, write_seg_split

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", default=None, help=f"output directory (default: {shapes_root()})")
    parser.add_argument("--splits", nargs="*", default=list(SEG_SPLITS), choices=list(SEG_SPLITS))
    args = parser.parse_args(argv)
    root = Path(args.out) if args.out else shapes_root()
    for name in args.splits:
        split_dir = write_seg_split(root, name, SEG_SPLITS[name])
        print(f"{name}: {len(load_seg_split(split_dir))} images + label maps -> {split_dir}")
    if args.out:
        print(f"use it with: LGVIT_SHAPES_DIR={root.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
