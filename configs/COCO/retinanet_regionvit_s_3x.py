"""RetinaNet + FPN, RegionViT-S backbone, 3x schedule on COCO.

Paper: 40.8M params, 192.6 GFLOPs, 45.8 AP.
The 1x recipe with Detectron2's 3x schedule (270k iterations, lr x0.1 at 210k and 250k) and multi-scale
training (A.2).
"""

from detectron2 import model_zoo

from ..common.data.multiscale import multiscale_augmentations
from .retinanet_regionvit_s_1x import dataloader, model, optimizer, train

lr_multiplier = model_zoo.get_config("common/coco_schedule.py").lr_multiplier_3x

dataloader.train.mapper.augmentations = multiscale_augmentations
train.max_iter = 270000
train.output_dir = "./output/retinanet_regionvit_s_3x"
