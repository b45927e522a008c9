"""RegionViT-S on ImageNet-1K, the paper's recipe (RegionViT Table A1, IN1K column; A.1 follows DeiT):
300 epochs, AdamW lr 0.004 at batch 4,096 (linearly scaled to the batch used), weight decay 0.05, cosine
schedule after 50 warm-up epochs from 1e-6, RandAugment m=9 n=2, Mixup 0.8, CutMix 1.0, random erasing
0.25, instance repetition 3, drop path 0.1, label smoothing 0.1; 224 crops, resize 256 + centre 224 for
evaluation. Where the table is silent, DeiT's (and the official code's) defaults: minimum lr 1e-5, no
gradient clipping, no EMA. Paper: 32 GPUs x 128 images.

    torchrun --nproc_per_node 8 projects/LGViTCls/train_net.py \\
        --config-file configs/classification/imagenet_regionvit_s.py \\
        dataloader.train.root=/data/imagenet/train dataloader.val.root=/data/imagenet/val
"""

from detectron2.config import LazyCall as L

import lgvit

from .common.data import dataloader
from .common.optim import optimizer, scheduler
from .common.train import ema, mixup, train

model = L(lgvit.create_model)(name="regionvit_s", num_classes=1000, drop_path_rate=0.1)

optimizer.lr = 4e-3
optimizer.weight_decay = 0.05
scheduler.warmup_epochs = 50
scheduler.warmup_lr = 1e-6
scheduler.min_lr = 1e-5
train.update(
    output_dir="output/classification/imagenet_regionvit_s",
    epochs=300,
    batch_size=128,
    lr_base_batch=4096,
    repeats=3,
)
