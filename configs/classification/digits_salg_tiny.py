"""A tiny SALG trained from scratch on the UCI handwritten digits (``tools/export_digits.py``, 32x32), on
CPU in about a minute (98.89% held-out top-1, seed 0): the RegionViT digits recipe with a narrow SALG-ST
(C = 32, blocks 1-1-2-1: three SALG stages with semantic regions and AGR tokens, then the normal stage;
~1.4M parameters) with region-mean window 4 (the paper's 7 on an 8x8 first map would be one padded region
per stage).
"""

from detectron2.config import LazyCall as L

import lgvit

from .digits_regionvit_tiny import dataloader, mixup, optimizer, scheduler, train

model = L(lgvit.create_model)(
    name="salg_st",
    num_classes=10,
    drop_path_rate=0.0,
    dims=(32, 64, 128, 256),
    depths=(1, 1, 2, 1),
    heads=(1, 2, 4, 8),
    window=4,
)
train.output_dir = "output/classification/digits_salg_tiny"
