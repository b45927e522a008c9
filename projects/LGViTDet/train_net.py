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

from detectron2.engine import default_argument_parser, launch
from lgvit_det.engine import main


def parse_args(argv=None):
    parser = default_argument_parser(epilog=__doc__)
    parser.add_argument(
        "--num-threads", type=int, default=0, help="torch intra-op threads per process (0: default)"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse_args()
    launch(
        main,
        args.num_gpus,
        num_machines=args.num_machines,
        machine_rank=args.machine_rank,
        dist_url=args.dist_url,
        args=(args,),
    )
