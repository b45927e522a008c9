#!/usr/bin/env python
"""Train or evaluate an lgvit detector from a lazy config (configs/COCO/*.py, configs/shapes/*.py).

    python projects/LGViTDet/train_net.py --config-file configs/shapes/mask_rcnn_regionvit_tiny_shapes.py
    python projects/LGViTDet/train_net.py --config-file configs/COCO/mask_rcnn_regionvit_s_1x.py \\
        --num-gpus 8 train.init_checkpoint=regionvit_s.pth     # classification weights: ours or official
    python projects/LGViTDet/train_net.py --config-file ... --eval-only train.init_checkpoint=model_final.pth
    python projects/LGViTDet/train_net.py --config-file ... --resume   # continue from output_dir

Options after the flags are ``key=value`` config overrides. On a machine without GPUs ``--num-gpus N``
starts N CPU processes (gloo). The logic lives in :mod:`lgvit_det.engine`.
"""

from detectron2.engine import launch
from lgvit_det.engine import main, parse_args

if __name__ == "__main__":
    args = parse_args(epilog=__doc__)
    launch(
        main,
        args.num_gpus,
        num_machines=args.num_machines,
        machine_rank=args.machine_rank,
        dist_url=args.dist_url,
        args=(args,),
    )
