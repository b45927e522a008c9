"""The lgvit bottom-up network shared by every detector config: RegionViT-S with the detection
LayerNorms in the path (``out_norms=True``), drop path 0.2 (paper A.2), no classifier, nothing frozen
(official ``FREEZE_AT: 0``). Variant configs change ``...bottom_up.model.name`` only."""

from detectron2 import model_zoo
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
# 0-255 scale; Detectron2's ``imagenet_rgb256_*`` constants). The official RegionViT configs use FORMAT
# "RGB" with the BGR-ordered numbers, which swaps the red and blue statistics; we use the RGB order that
# matches the pretraining. (Detectron2's common models are BGR with the caffe-style std of 1.)
_constants = model_zoo.get_config("common/data/constants.py").constants
pixel_mean = _constants.imagenet_rgb256_mean
pixel_std = _constants.imagenet_rgb256_std
input_format = "RGB"
