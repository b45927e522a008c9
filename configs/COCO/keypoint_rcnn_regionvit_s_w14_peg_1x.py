"""Keypoint R-CNN + FPN, RegionViT-S+ w/ PEG backbone, 1x schedule on COCO.

Paper: 65.7M params, 172.2 GFLOPs, 56.0 bbox AP / 66.1 keypoint AP (Table A4, schedule not stated).
"""

from .keypoint_rcnn_regionvit_s_1x import dataloader, lr_multiplier, model, optimizer, train

model.backbone.bottom_up.model.name = "regionvit_s_w14_peg"
train.output_dir = "./output/keypoint_rcnn_regionvit_s_w14_peg_1x"
