"""Train or test a divided space-time video model from a lazy config (configs/video/*.py).

Examples:
  python -m video.train --config-file configs/video/regionvit_tiny_motion_synthetic.py
  python -m video.train --config-file configs/video/regionvit_s_k400.py train.batch_size=4 train.accum_steps=2
  torchrun --nproc_per_node 2 -m video.train --config-file configs/video/regionvit_s_k400.py
  python -m video.train --config-file configs/video/regionvit_s_k400.py --eval-only \
      --weights out/model_final.pth
  python -m video.train --config-file configs/video/regionvit_s_k400.py --resume
"""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m video.train",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--config-file",
        required=True,
        metavar="FILE",
        help="a video lazy config, e.g. configs/video/regionvit_s_k400.py",
    )
    p.add_argument(
        "--eval-only",
        action="store_true",
        help="skip training: run the 3-crop test of --weights (default: train.output_dir/model_final.pth or "
        "last.pth), print top-1/top-5 and write per-video predictions (CSV and JSON) to train.output_dir",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue training from train.output_dir/last.pth (model, optimizer, schedule, position in "
        "the epoch); starts from scratch when there is none",
    )
    p.add_argument(
        "--weights", metavar="FILE", help="video model weights to evaluate (--eval-only) or start from"
    )
    p.add_argument(
        "overrides",
        nargs="*",
        metavar="KEY=VALUE",
        help="config overrides, e.g. train.epochs=1 train.max_steps=10 dataloader.train.decoder=pyav "
        "model.pretrained=/path/regionvit_s.pth (values are Python literals)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from video.config import load_config
    from video.engine.runner import run

    try:
        cfg = load_config(args.config_file, args.overrides)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    from lgvit.checkpoint import CheckpointError
    from lgvit.config import ConfigError
    from video.engine.data import DataError

    try:
        result = run(cfg, eval_only=args.eval_only, resume=args.resume, weights=args.weights)
    except (
        FileNotFoundError,
        CheckpointError,
        ConfigError,
        DataError,
    ) as e:  # missing/damaged/foreign weights, unreadable data, a model too small for it: no traceback
        print(f"error: {e}", file=sys.stderr)
        return 2
    if result is not None:
        print(
            f"top-1 {result['top1']:.2f}  top-5 {result['top5']:.2f}  ({result['num_videos']} videos, "
            f"{result['skipped']} unreadable skipped)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
