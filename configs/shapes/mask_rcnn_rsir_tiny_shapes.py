"""Mask R-CNN on the synthetic shapes with a tiny RSIR (~1.4M-parameter backbone: RSIR-T's layout at half
width and 1-1-2-1 depth, window 7), CPU-sized: the RegionViT shapes settings with the bottom-up swapped."""

from detectron2.config import LazyCall as L

import lgvit

from .mask_rcnn_regionvit_tiny_shapes import dataloader, lr_multiplier, model, optimizer, train

model.backbone.bottom_up.model = L(lgvit.create_model)(
    name="rsir_t",
    num_classes=0,
    out_norms=True,
    drop_path_rate=0.0,
    dims=(32, 64, 128, 256),
    depths=(1, 1, 2, 1),
    heads=(2, 2, 4, 8),
)
train.output_dir = "./output/mask_rcnn_rsir_tiny_shapes"
