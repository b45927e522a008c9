"""The lgvit bottom-up network of the segmentation configs: RegionViT-S with its detection LayerNorms in
the path (``out_norms=True``, as for detection), drop path 0.2 (paper A.3), no classifier, nothing frozen.
Variant configs change ``model.backbone.bottom_up.model.name`` (Semantic FPN) only."""

from detectron2.config import LazyCall as L
from lgvit_det import LGViTBackbone

import lgvit

bottom_up = L(LGViTBackbone)(
    model=L(lgvit.create_model)(name="regionvit_s", num_classes=0, drop_path_rate=0.2, out_norms=True),
    out_features=["res2", "res3", "res4", "res5"],
    freeze_at=0,
    size_divisibility=32,
)

# ImageNet statistics in RGB order on the 0-255 scale (the backbone's pretraining), as for detection.
pixel_mean = [123.675, 116.28, 103.53]
pixel_std = [58.395, 57.12, 57.375]
