#!/usr/bin/env python
"""Parameters and FLOPs of the detectors vs the papers (RegionViT Table 5 / A4, RSIR Table 1, SALG Table II).

    python tools/det_complexity.py                 # params of all 17 paper entries (seconds)
    python tools/det_complexity.py --flops         # + GFLOPs at 1120x672 for the three headline models
    python tools/det_complexity.py --flops --all   # + GFLOPs for every entry (minutes on a CPU)
    python tools/det_complexity.py --flops --size 800 1280 --detections 10

FLOPs: Detectron2/fvcore counting (one multiply-add = one FLOP) plus our handle for fused attention,
one H x W image, inference mode; see ``tools/lgvit_tools/det_complexity.py`` for the input size and the
caveats (mask/keypoint heads run once per detection: --detections caps them).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # lgvit_tools (it puts the checkout on the path)

HEADLINE = [
    ("retinanet", "regionvit_s"),
    ("mask_rcnn", "regionvit_s"),
    ("keypoint_rcnn", "regionvit_s_w14_peg"),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--flops", action="store_true", help="also count FLOPs (runs each model once)")
    parser.add_argument(
        "--all", action="store_true", help="FLOPs for every entry, not only the headline three"
    )
    parser.add_argument("--size", type=int, nargs=2, default=(672, 1120), metavar=("H", "W"))
    parser.add_argument("--detections", type=int, default=None, help="cap R-CNN detections (default: 100)")
    args = parser.parse_args(argv)

    import torch
    from detectron2.config import instantiate
    from lgvit_det.engine import load_config
    from lgvit_tools import REPO_ROOT
    from lgvit_tools.det_complexity import PAPER_CONFIGS, count_params, detector_flops, detector_params
    from lgvit_tools.reference import DETECTION as PAPER

    print(f"{'config':<40}{'params (M)':>11}{'paper':>8}{'diff':>8}{'GFLOPs':>9}{'paper':>8}")
    for key, entry in PAPER.items():
        cfg_file = REPO_ROOT / PAPER_CONFIGS[key]
        n = detector_params(cfg_file) / 1e6
        gflops = "-"
        if args.flops and (args.all or key in HEADLINE):
            torch.manual_seed(0)
            model = instantiate(load_config(str(cfg_file)).model)
            assert abs(count_params(model) / 1e6 - n) < 1e-6
            gflops = f"{detector_flops(model, *args.size, max_detections=args.detections)['gflops']:.1f}"
        diff = 100 * (n - entry.params_m) / entry.params_m
        print(
            f"{cfg_file.stem:<40}{n:>11.2f}{entry.params_m:>8.1f}{diff:>7.2f}%{gflops:>9}"
            f"{entry.gflops if entry.gflops else '-':>8}  {entry.source}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
