"""Train or test a divided space-time video model from a lazy config (configs/video/*.py), on the one
training runtime (lgvit_engine: Detectron2's engine; console, metrics.json and TensorBoard logs and
checkpoints in train.output_dir).

Examples:
  python -m video.train --config-file configs/video/regionvit_tiny_motion_synthetic.py
  python -m video.train --config-file configs/video/regionvit_s_k400.py train.batch_size=4 train.accum_steps=2
  python -m video.train --config-file configs/video/regionvit_s_k400.py --num-gpus 8
  torchrun --nproc_per_node 2 -m video.train --config-file configs/video/regionvit_s_k400.py
  python -m video.train --config-file configs/video/regionvit_s_k400.py --resume
  python -m video.train --config-file configs/video/regionvit_s_k400.py --eval-only \
      --weights out/model_final.pth

--resume continues from the newest intact checkpoint in train.output_dir (model, optimizer, schedule, RNG
states, position in the epoch: the run goes on as if never interrupted). --eval-only runs the
multi-clip x 3-crop test of --weights (default: train.output_dir/model_final.pth), prints top-1/top-5 and
writes per-video predictions (predictions.csv and predictions.json) to train.output_dir.
Overrides are KEY=VALUE (Python literals), e.g. train.epochs=1 train.max_iter=10
dataloader.train.decoder=pyav model.pretrained=/path/regionvit_s.pth.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from lgvit_engine import parse_args, run

    from video.engine.task import VideoTask

    task = VideoTask()
    return run(task, parse_args(argv, epilog=__doc__, task=task))


if __name__ == "__main__":
    sys.exit(main())
