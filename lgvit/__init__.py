"""lgvit: local-global vision transformers (RegionViT, SALG, RSIR) for detection, keypoints and video.

``import lgvit`` depends on torch and timm only (never on detectron2 or the video libraries), and
registers every model with timm, so ``timm.create_model("regionvit_s")`` works afterwards. Every model
follows one backbone contract (:class:`lgvit.LGViTModel`, see ``lgvit/models/base.py``); checkpoints are
read, checked and adapted by :mod:`lgvit.checkpoint`.
"""

from . import checkpoint
from ._registry import create_model, list_models, register
from .models import (
    DETECTION_ONLY_KEYS,
    REGIONVIT_CFGS,
    LGViTModel,
    RegionViT,
    RegionViTCfg,
    regionvit_from_official,
)

__version__ = "0.1.0"

__all__ = [
    "DETECTION_ONLY_KEYS",
    "LGViTModel",
    "REGIONVIT_CFGS",
    "RegionViT",
    "RegionViTCfg",
    "checkpoint",
    "create_model",
    "list_models",
    "register",
    "regionvit_from_official",
]
