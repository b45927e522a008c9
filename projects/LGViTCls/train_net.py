#!/usr/bin/env python
"""Train or evaluate an lgvit image classifier from a lazy config (configs/classification/*.py).

    python tools/export_digits.py --out datasets/digits
    python projects/LGViTCls/train_net.py --config-file configs/classification/digits_regionvit_tiny.py
    python projects/LGViTCls/train_net.py --config-file configs/classification/digits_regionvit_tiny.py \\
        --eval-only                                  # evaluates train.output_dir/model_final.pth
    python projects/LGViTCls/train_net.py --config-file configs/classification/imagenet_regionvit_s.py \\
        --num-gpus 8 dataloader.train.root=/data/imagenet/train dataloader.val.root=/data/imagenet/val
    python projects/LGViTCls/train_net.py --config-file ... --resume     # continue from train.output_dir
    python projects/LGViTCls/train_net.py \\
        --config-file configs/classification/imagenet_regionvit_s_384_ft.py \\
        --weights output/classification/imagenet_regionvit_s/model_final.pth

Options after the flags are key=value config overrides (Python literals; unknown keys are refused). The
config is checked before anything starts; a wrong key, value or file exits with status 2 and one message.
torchrun works too (torchrun --nproc_per_node 8 projects/LGViTCls/train_net.py ...). The logic lives in
lgvit_cls.engine on the runtime lgvit_engine.
"""

import sys

import lgvit_engine
from lgvit_cls import ClassificationTask

if __name__ == "__main__":
    task = ClassificationTask()
    sys.exit(lgvit_engine.run(task, lgvit_engine.parse_args(epilog=__doc__, task=task)))
