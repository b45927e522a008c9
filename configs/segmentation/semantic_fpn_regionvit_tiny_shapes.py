"""Semantic FPN on the synthetic label maps (4 classes), tiny RegionViT, CPU-sized: the ADE20K config with
small data, a narrow FPN/head (64 channels) and a short poly schedule with warm-up. Trains to a clear
mIoU in well under a minute of one CPU core."""

from ..common.models.regionvit_tiny import regionvit_tiny
from .common.data.seg_shapes import dataloader
from .semantic_fpn_regionvit_s import lr_multiplier, model, optimizer, train

model.backbone.bottom_up.model = regionvit_tiny
model.backbone.out_channels = 64
model.sem_seg_head.conv_dims = 64
model.sem_seg_head.num_classes = 4

optimizer.lr = 2e-3  # from scratch, batch 4: a larger step than fine-tuning's 1e-4
lr_multiplier.warmup_length = 20 / 200
lr_multiplier.warmup_factor = 0.01
train.max_iter = 200
train.amp.enabled = False
train.checkpointer.period = 200
train.eval_period = 200
train.log_period = 20
train.seed = 0
train.output_dir = "./output/semantic_fpn_regionvit_tiny_shapes"
