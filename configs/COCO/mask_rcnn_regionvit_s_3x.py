"""Mask R-CNN + FPN, RegionViT-S backbone, 3x schedule on COCO.

Paper: 50.1M params, 171.3 GFLOPs, 46.3 AP^b / 42.3 AP^m.
The 1x recipe with Detectron2's 3x schedule (270k iterations, lr x0.1 at 210k and 250k) and multi-scale
training (A.2).
"""

from detectron2 import model_zoo

from ..common.data.multiscale import multiscale_augmentations
from .mask_rcnn_regionvit_s_1x import dataloader, model, optimizer, train

lr_multiplier = model_zoo.get_config("common/coco_schedule.py").lr_multiplier_3x

dataloader.train.mapper.augmentations = multiscale_augmentations
dataloader.train.mapper.recompute_boxes = True  # crops cut masks: boxes follow them
train.max_iter = 270000
train.output_dir = "./output/mask_rcnn_regionvit_s_3x"
