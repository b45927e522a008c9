"""Mask R-CNN + FPN, RegionViT-S+ backbone, 1x schedule on COCO.

Paper: 50.9M params, 182.9 GFLOPs, 43.5 AP^b / 40.4 AP^m.
"""

from .mask_rcnn_regionvit_s_1x import dataloader, lr_multiplier, model, optimizer, train

model.backbone.bottom_up.model.name = "regionvit_s_w14"
train.output_dir = "./output/mask_rcnn_regionvit_s_w14_1x"
