"""Model families. Importing this registers every variant with lgvit and timm."""

from .regionvit import REGIONVIT_CFGS, RegionViT, RegionViTCfg, build_regionvit, regionvit_from_official

__all__ = ["REGIONVIT_CFGS", "RegionViT", "RegionViTCfg", "build_regionvit", "regionvit_from_official"]
