"""The lgvit bottom-up network shared by every detector config: RegionViT-S with the detection
LayerNorms in the path (``out_norms=True``), drop path 0.2 (paper A.2), no classifier, nothing frozen
(official ``FREEZE_AT: 0``). Variant configs change ``...bottom_up.model.name`` only."""

from detectron2.config import LazyCall as L
from lgvit_det import LGViTBackbone

import lgvit

bottom_up = L(LGViTBackbone)(
    model=L(lgvit.create_model)(name="regionvit_s", num_classes=0, drop_path_rate=0.2, out_norms=True),
    out_features=["res2", "res3", "res4", "res5"],
    freeze_at=0,
    size_divisibility=32,
)

# The backbone is ImageNet-pretrained on RGB images normalised with these statistics (timm defaults,
# 0-255 scale). The official RegionViT configs use FORMAT "RGB" with the BGR-ordered numbers, which
# swaps the red and blue statistics; we use the RGB order that matches the pretraining.
pixel_mean = [123.675, 116.28, 103.53]
pixel_std = [58.395, 57.12, 57.375]
input_format = "RGB"
