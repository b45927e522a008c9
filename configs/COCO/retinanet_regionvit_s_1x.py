"""RetinaNet + FPN, RegionViT-S backbone, 1x schedule on COCO.

Paper: 40.8M params, 192.6 GFLOPs, 42.2 AP.
The base of every RetinaNet config: the paper's 1x recipe (A.2) -- batch 16, AdamW lr 1e-4, weight
decay 0.05 (none on norms, biases, rel-pos tables, tokens), Detectron2's 1x schedule (lr x0.1 at 60k and
80k of 90k iterations), drop path 0.2, shorter side 672 / longer side <= 1,120.
"""

from detectron2 import model_zoo

from ..common.data.coco import dataloader
from ..common.models.retinanet_lgvit_fpn import model
from ..common.optim import AdamW as optimizer
from ..common.train import train

lr_multiplier = model_zoo.get_config("common/coco_schedule.py").lr_multiplier_1x

train.max_iter = 90000
train.output_dir = "./output/retinanet_regionvit_s_1x"
