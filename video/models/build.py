"""One builder for video models, used by configs (``L(build_video_model)(...)``) and tests."""

from __future__ import annotations

import logging
from typing import Any

import torch.nn as nn

import lgvit

from .checkpoint import load_image_checkpoint
from .video_transformer import VideoTransformer

logger = logging.getLogger(__name__)


def build_video_model(
    backbone: str | None = "regionvit_s",
    num_classes: int = 400,
    num_frames: int = 8,
    temporal: bool = True,
    drop_path_rate: float = 0.1,
    pretrained: str | None = None,
    **backbone_kwargs: Any,
) -> VideoTransformer:
    """Divided space-time video classifier on an lgvit backbone.

    Args:
        backbone: a registered lgvit model name (``lgvit.list_models()``), or None to build
            ``lgvit.RegionViT(**backbone_kwargs)`` directly (small custom models, e.g. for tests).
        num_classes: classifier outputs (K400: 400, SSv2: 174).
        num_frames: frames per clip T.
        temporal: False = the image model averaged over frames (ablation; see VideoTransformer).
        drop_path_rate: stochastic depth of the backbone (the temporal branches use their block's rate).
        pretrained: optional image checkpoint (ours or official RegionViT); temporal parts stay fresh.
        backbone_kwargs: more backbone arguments (drop_rate, window, dims, ...).
    """
    if backbone is None:
        image_model: nn.Module = lgvit.RegionViT(
            num_classes=num_classes, drop_path_rate=drop_path_rate, **backbone_kwargs
        )
    else:
        image_model = lgvit.create_model(
            backbone, num_classes=num_classes, drop_path_rate=drop_path_rate, **backbone_kwargs
        )
    model = VideoTransformer(image_model, num_frames=num_frames, temporal=temporal)
    if pretrained:
        load_image_checkpoint(model, pretrained)
    return model
