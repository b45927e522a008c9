"""Mask R-CNN + FPN, RegionViT-S+ w/ PEG backbone, 1x schedule on COCO.

Paper: 50.9M params, 183.0 GFLOPs, 44.2 AP^b / 40.8 AP^m.
"""

from .mask_rcnn_regionvit_s_1x import dataloader, lr_multiplier, model, optimizer, train

model.backbone.bottom_up.model.name = "regionvit_s_w14_peg"
train.output_dir = "./output/mask_rcnn_regionvit_s_w14_peg_1x"
