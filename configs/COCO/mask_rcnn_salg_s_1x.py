"""Mask R-CNN + FPN, SALG-S backbone, 1x schedule on COCO.

SALG Table II: 73M params, 44.8 AP^b / 40.4 AP^m."""

from .mask_rcnn_salg_t_1x import dataloader, lr_multiplier, model, optimizer, train

model.backbone.bottom_up.model.name = "salg_s"
train.output_dir = "./output/mask_rcnn_salg_s_1x"
