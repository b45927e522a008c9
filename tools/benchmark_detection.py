#!/usr/bin/env python
"""Training-iteration and inference time of Mask R-CNN with RegionViT-S vs Detectron2's Swin-T backbone
(same FPN + heads, same input, same run); prints both and the ratios.

    python tools/benchmark_detection.py                       # 2 x 672x1120, GPU if available
    python tools/benchmark_detection.py --size 320 512 --batch 1 --iters 2   # a quick CPU check
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # lgvit_tools (it puts the checkout on the path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config-file", default="configs/COCO/mask_rcnn_regionvit_s_1x.py")
    parser.add_argument("--size", type=int, nargs=2, default=(672, 1120), metavar=("H", "W"))
    parser.add_argument("--batch", type=int, default=2, help="images per training iteration")
    parser.add_argument("--iters", type=int, default=3, help="timed iterations (after --warmup)")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--device", default=None, help="cpu / cuda (default: cuda if available)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    parser.add_argument("opts", nargs="*", help="config overrides key=value")
    args = parser.parse_intermixed_args(argv)

    import torch
    from lgvit_tools.det_benchmark import run_benchmark

    if args.threads:
        torch.set_num_threads(args.threads)
    run_benchmark(args.config_file, *args.size, args.batch, args.iters, args.warmup, args.device, args.opts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
