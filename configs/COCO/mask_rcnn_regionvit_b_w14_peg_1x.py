"""Mask R-CNN + FPN, RegionViT-B+ w/ PEG backbone, 1x schedule on COCO.

Paper: 93.2M params, 307.2 GFLOPs, 45.4 AP^b / 41.6 AP^m.
"""

from .mask_rcnn_regionvit_s_1x import dataloader, lr_multiplier, model, optimizer, train

model.backbone.bottom_up.model.name = "regionvit_b_w14_peg"
train.output_dir = "./output/mask_rcnn_regionvit_b_w14_peg_1x"
