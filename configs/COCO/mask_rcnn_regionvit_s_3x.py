"""Mask R-CNN + FPN, RegionViT-S backbone, 3x schedule on COCO.

Paper: 50.1M params, 171.3 GFLOPs, 46.3 AP^b / 42.3 AP^m.
The 1x recipe with 270k iterations (lr x0.1 at 210k and 250k) and multi-scale training (A.2).
"""

from ..common.data.multiscale import multiscale_augmentations
from ..common.schedule import lr_multiplier_3x as lr_multiplier
from .mask_rcnn_regionvit_s_1x import dataloader, model, optimizer, train

dataloader.train.mapper.augmentations = multiscale_augmentations
dataloader.train.mapper.recompute_boxes = True  # crops cut masks: boxes follow them
train.max_iter = 270000
train.output_dir = "./output/mask_rcnn_regionvit_s_3x"
