"""lgvit: local-global vision transformers (RegionViT, SALG, RSIR) for detection, keypoints and video.

``import lgvit`` depends on torch and timm only (never on detectron2 or the video libraries), and
registers every model with timm, so ``timm.create_model("regionvit_s")`` works afterwards.
"""

from ._registry import create_model, list_models, register
from .models import REGIONVIT_CFGS, RegionViT, RegionViTCfg, regionvit_from_official
from .optim import param_groups_weight_decay

__version__ = "0.1.0"

__all__ = [
    "REGIONVIT_CFGS",
    "RegionViT",
    "RegionViTCfg",
    "create_model",
    "list_models",
    "param_groups_weight_decay",
    "register",
    "regionvit_from_official",
]
