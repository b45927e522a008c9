"""Keypoint R-CNN + FPN, RegionViT-B+ w/ PEG backbone, 1x schedule on COCO.

Paper: not reported in the paper.
"""

from .keypoint_rcnn_regionvit_s_1x import dataloader, lr_multiplier, model, optimizer, train

model.backbone.bottom_up.model.name = "regionvit_b_w14_peg"
train.output_dir = "./output/keypoint_rcnn_regionvit_b_w14_peg_1x"
