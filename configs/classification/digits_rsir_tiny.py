"""A tiny RSIR trained from scratch on the UCI handwritten digits (``tools/export_digits.py``, 32x32), on
CPU in under a minute (98.44% held-out top-1, seed 0): the RegionViT digits recipe with RSIR-T's layout
at half width and depths 1-1-2-1 (~1.4M parameters), window 4 (8x8 first map: four RS-Win and four IR-Win
windows per image).
"""

from detectron2.config import LazyCall as L

import lgvit

from .digits_regionvit_tiny import dataloader, mixup, optimizer, scheduler, train

model = L(lgvit.create_model)(
    name="rsir_t",
    num_classes=10,
    drop_path_rate=0.0,
    dims=(32, 64, 128, 256),
    depths=(1, 1, 2, 1),
    heads=(2, 2, 4, 8),
    window=4,
)
train.output_dir = "output/classification/digits_rsir_tiny"
