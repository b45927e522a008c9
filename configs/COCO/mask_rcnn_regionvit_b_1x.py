"""Mask R-CNN + FPN, RegionViT-B backbone, 1x schedule on COCO.

Paper: 92.2M params, 287.9 GFLOPs, 43.5 AP^b / 40.1 AP^m.
"""

from .mask_rcnn_regionvit_s_1x import dataloader, lr_multiplier, model, optimizer, train

model.backbone.bottom_up.model.name = "regionvit_b"
train.output_dir = "./output/mask_rcnn_regionvit_b_1x"
