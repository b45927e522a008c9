"""Semantic FPN, RegionViT-S backbone, ADE20K, 80k iterations (RegionViT Table A5).

Paper: 35.0M params (incl. the unused 1000-class classifier, 0.77M: 34.19M here), 37.3 GFLOPs, 43.7 mIoU.
The base of every Semantic FPN config: the paper's recipe (A.3) -- batch 16, AdamW lr 1e-4, weight decay
0.05 (none on norms, biases, rel-pos tables, tokens), poly schedule (power 0.9), drop path 0.2, shorter
side 448 (longer <= 1,792), 448x448 crops, flip; evaluation on the whole resized image.
"""

from ..common.optim import AdamW as optimizer
from .common.data.ade20k import dataloader
from .common.models.semantic_fpn_lgvit import model
from .common.schedule import lr_multiplier
from .common.train import train

train.output_dir = "./output/semantic_fpn_regionvit_s"
