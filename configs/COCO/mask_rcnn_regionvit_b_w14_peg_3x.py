"""Mask R-CNN + FPN, RegionViT-B+ w/ PEG backbone, 3x schedule on COCO.

Paper: 93.2M params, 307.2 GFLOPs, 48.3 AP^b / 43.5 AP^m.
"""

from .mask_rcnn_regionvit_s_3x import dataloader, lr_multiplier, model, optimizer, train

model.backbone.bottom_up.model.name = "regionvit_b_w14_peg"
train.output_dir = "./output/mask_rcnn_regionvit_b_w14_peg_3x"
