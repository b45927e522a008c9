"""Mask R-CNN + FPN, SALG-S backbone, 3x schedule with multi-scale training.

SALG Table II: 46.5 AP^b / 41.7 AP^m."""

from .mask_rcnn_salg_t_3x import dataloader, lr_multiplier, model, optimizer, train

model.backbone.bottom_up.model.name = "salg_s"
train.output_dir = "./output/mask_rcnn_salg_s_3x"
