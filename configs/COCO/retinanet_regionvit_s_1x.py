"""RetinaNet + FPN, RegionViT-S backbone, 1x schedule on COCO.

Paper: 40.8M params, 192.6 GFLOPs, 42.2 AP.
The base of every RetinaNet config: the paper's 1x recipe (A.2) -- batch 16, AdamW lr 1e-4, weight
decay 0.05 (none on norms, biases, rel-pos tables, tokens), lr x0.1 at 60k and 80k of 90k iterations,
drop path 0.2, shorter side 672 / longer side <= 1,120.
"""

from ..common.data.coco import dataloader
from ..common.models.retinanet_lgvit_fpn import model
from ..common.optim import AdamW as optimizer
from ..common.schedule import lr_multiplier_1x as lr_multiplier
from ..common.train import train

train.max_iter = 90000
train.output_dir = "./output/retinanet_regionvit_s_1x"
