"""Model families. Importing this registers every variant with lgvit and timm."""

from . import rsir  # noqa: F401  (registers the rsir_* models with lgvit and timm)
from .base import DETECTION_ONLY_KEYS, LGViTModel, build_lgvit_model
from .regionvit import REGIONVIT_CFGS, RegionViT, RegionViTCfg
from .regionvit_official import regionvit_from_official
from .salg import SALG, SALG_CFGS, SALGCfg  # noqa: F401

__all__ = [
    "DETECTION_ONLY_KEYS",
    "LGViTModel",
    "REGIONVIT_CFGS",
    "RegionViT",
    "RegionViTCfg",
    "build_lgvit_model",
    "regionvit_from_official",
]
