"""Swin Transformer's ImageNet-1K recipe (Liu et al. 2021 and its official configs), which the SALG and
RSIR papers follow where their texts are silent: 300 epochs, AdamW (betas 0.9/0.999, eps 1e-8), lr 5e-4
for a global batch of 512 (linearly scaled), weight decay 0.05, cosine after 20 warm-up epochs from
5e-7 down to 5e-6, gradient clipping 5.0, RandAugment m=9 n=2, colour jitter 0.4, random erasing 0.25,
Mixup 0.8 / CutMix 1.0, label smoothing 0.1, no instance repetition, no EMA; resize 256 + centre 224 for
evaluation. Drop path by size (Swin-T 0.2, S 0.3, B 0.5): variant configs set ``model.drop_path_rate``.

Variant configs import this (or a family's recipe built on it) and name the model::

    from .common.swin_in1k import dataloader, ema, mixup, model, optimizer, scheduler, train
    model.name = "..."
"""

from detectron2.config import LazyCall as L
from omegaconf import MISSING

import lgvit

from .data import dataloader
from .optim import optimizer, scheduler
from .train import ema, mixup, train

model = L(lgvit.create_model)(name=MISSING, num_classes=1000, drop_path_rate=0.2)

optimizer.lr = 5e-4
optimizer.weight_decay = 0.05
scheduler.warmup_epochs = 20
scheduler.warmup_lr = 5e-7
scheduler.min_lr = 5e-6
train.update(epochs=300, batch_size=128, lr_base_batch=512, repeats=0, clip_grad=5.0)
