"""Train or evaluate an lgvit image classifier from a lazy config (configs/classification/*.py).

Examples:
  python tools/export_digits.py --out datasets/digits
  python tools/train_cls.py --config-file configs/classification/digits_regionvit_tiny.py
  python tools/train_cls.py --config-file configs/classification/digits_regionvit_tiny.py --eval-only
  torchrun --standalone --nproc_per_node 8 tools/train_cls.py \
      --config-file configs/classification/imagenet_regionvit_s.py \
      dataloader.train.root=/data/imagenet/train dataloader.val.root=/data/imagenet/val
  python tools/train_cls.py --config-file configs/classification/imagenet_regionvit_s.py --resume
  python tools/train_cls.py --config-file configs/classification/imagenet_regionvit_s_384_ft.py \
      --weights output/classification/imagenet_regionvit_s/model_final.pth

Checkpoints (train.output_dir/last.pth after every epoch, model_final.pth at the end) load directly into
the Detectron2 backbone (train.init_checkpoint=...) and the video model (model.pretrained=...).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tools/train_cls.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--config-file",
        required=True,
        metavar="FILE",
        help="a classification lazy config, e.g. configs/classification/digits_regionvit_tiny.py",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue training from train.output_dir/last.pth (model, optimizer, schedule, EMA, epoch); "
        "starts from scratch when there is none",
    )
    p.add_argument(
        "--eval-only",
        action="store_true",
        help="skip training: evaluate --weights (default: train.output_dir/model_final.pth, else "
        "last.pth) on "
        "dataloader.val and print top-1/top-5 (of the EMA weights too when the checkpoint has them)",
    )
    p.add_argument(
        "--weights",
        metavar="FILE",
        help="weights to evaluate (--eval-only), or to start training from (replaces train.init_checkpoint: "
        "fine-tuning, classifier of another size left out, windows adapted)",
    )
    p.add_argument(
        "overrides",
        nargs="*",
        metavar="KEY=VALUE",
        help="config overrides, e.g. train.epochs=10 train.batch_size=64 model.drop_path_rate=0.2 "
        "dataloader.train.root=/data/train (values are Python literals; unknown keys are refused)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from lgvit.checkpoint import CheckpointError
    from lgvit.classification import REQUIRED, run
    from lgvit.config import load_config

    try:
        cfg = load_config(args.config_file, args.overrides, required=REQUIRED, kind="classification")
        result = run(cfg, eval_only=args.eval_only, resume=args.resume, weights=args.weights)
    except (FileNotFoundError, FileExistsError, ValueError, CheckpointError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if result is not None:
        ema = f"  EMA top-1 {result['ema_top1']:.2f}" if "ema_top1" in result else ""
        print(
            f"top-1 {result['top1']:.2f}  top-5 {result['top5']:.2f}{ema}  ({result['num_images']} images, "
            f"{result['skipped_images']} unreadable skipped)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
