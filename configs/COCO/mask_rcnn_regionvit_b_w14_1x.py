"""Mask R-CNN + FPN, RegionViT-B+ backbone, 1x schedule on COCO.

Paper: 93.2M params, 307.1 GFLOPs, 44.5 AP^b / 41.0 AP^m.
"""

from .mask_rcnn_regionvit_s_1x import dataloader, lr_multiplier, model, optimizer, train

model.backbone.bottom_up.model.name = "regionvit_b_w14"
train.output_dir = "./output/mask_rcnn_regionvit_b_w14_1x"
