"""Mask R-CNN on the synthetic shapes with a tiny SALG (CPU): the RegionViT shapes config with the
bottom-up swapped for a narrow SALG-ST (C = 32, blocks 1-1-2-1: three SALG stages with semantic regions
and AGR tokens, then the normal stage), ~1.6M backbone parameters, trained from scratch."""

from detectron2.config import LazyCall as L

import lgvit

from .mask_rcnn_regionvit_tiny_shapes import dataloader, lr_multiplier, model, optimizer, train

model.backbone.bottom_up.model = L(lgvit.create_model)(
    name="salg_st",
    num_classes=0,
    out_norms=True,
    drop_path_rate=0.0,
    dims=(32, 64, 128, 256),
    depths=(1, 1, 2, 1),
    heads=(1, 2, 4, 8),
)
train.output_dir = "./output/mask_rcnn_salg_tiny_shapes"
