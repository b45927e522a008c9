#!/usr/bin/env python
"""Train or evaluate an lgvit detector from a lazy config (configs/COCO/*.py, configs/shapes/*.py).

    python projects/LGViTDet/train_net.py --config-file configs/shapes/mask_rcnn_regionvit_tiny_shapes.py
    python projects/LGViTDet/train_net.py --config-file configs/COCO/mask_rcnn_regionvit_s_1x.py \\
        --num-gpus 8 train.init_checkpoint=regionvit_s.pth     # classification weights: ours or official
    python projects/LGViTDet/train_net.py --config-file ... --eval-only train.init_checkpoint=model_final.pth
    python projects/LGViTDet/train_net.py --config-file ... --resume   # continue from output_dir

Options after the flags are ``key=value`` config overrides. On a machine without GPUs ``--num-gpus N``
starts N CPU processes (gloo). The config and its overrides are checked before anything starts (an
unknown key such as ``train.max_itr=5`` exits with status 2 naming ``train.max_iter``). The logic lives in
:mod:`lgvit_det.engine`.
"""

import sys

from lgvit_det.engine import parse_args, run

if __name__ == "__main__":
    sys.exit(run(parse_args(epilog=__doc__)))
