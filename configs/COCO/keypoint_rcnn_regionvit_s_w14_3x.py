"""Keypoint R-CNN + FPN, RegionViT-S+ backbone, 3x schedule on COCO.

Paper: not reported in the paper.
"""

from .keypoint_rcnn_regionvit_s_3x import dataloader, lr_multiplier, model, optimizer, train

model.backbone.bottom_up.model.name = "regionvit_s_w14"
train.output_dir = "./output/keypoint_rcnn_regionvit_s_w14_3x"
