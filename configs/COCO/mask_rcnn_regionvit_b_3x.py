"""Mask R-CNN + FPN, RegionViT-B backbone, 3x schedule on COCO.

Paper: 92.2M params, 287.9 GFLOPs, 47.2 AP^b / 43.0 AP^m.
"""

from .mask_rcnn_regionvit_s_3x import dataloader, lr_multiplier, model, optimizer, train

model.backbone.bottom_up.model.name = "regionvit_b"
train.output_dir = "./output/mask_rcnn_regionvit_b_3x"
