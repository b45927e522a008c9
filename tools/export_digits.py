"""Export scikit-learn's UCI handwritten digits (1,797 real 8x8 images, shipped with scikit-learn, no
download) as an image folder for projects/LGViTCls/train_net.py: OUT/train/<digit>/*.png and
OUT/val/<digit>/*.png, upsampled to --size pixels, with a fixed stratified held-out split.

  python tools/export_digits.py --out datasets/digits
  python projects/LGViTCls/train_net.py --config-file configs/classification/digits_regionvit_tiny.py
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="datasets/digits", help="output folder (default: datasets/digits)")
    p.add_argument(
        "--size", type=int, default=32, help="image side in pixels, bicubic upsampling (default: 32)"
    )
    p.add_argument(
        "--holdout",
        type=float,
        default=0.25,
        help="held-out share of every digit (default: 0.25 -> 450 images)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the fixed split (default: 0)")
    p.add_argument("--overwrite", action="store_true", help="replace an export made with other parameters")
    args = p.parse_args(argv)
    from lgvit_cls.digits import export_digits

    try:
        d = export_digits(args.out, args.size, args.holdout, args.seed, args.overwrite)
    except (ValueError, FileExistsError, ImportError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(
        f"digits: {d.num_train} training images in {d.train}, {d.num_val} held-out in {d.val} "
        f"({d.size}x{d.size})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
