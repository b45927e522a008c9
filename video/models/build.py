"""One builder for video models, used by configs (``L(build_video_model)(...)``) and tests."""

from __future__ import annotations

import logging
from typing import Any

import lgvit

from .checkpoint import load_image_checkpoint
from .video_transformer import VideoTransformer

logger = logging.getLogger(__name__)


def build_video_model(
    backbone: str = "regionvit_s",
    num_classes: int = 400,
    num_frames: int = 8,
    space_time: str = "divided",
    drop_path_rate: float = 0.1,
    pretrained: str | None = None,
    **backbone_kwargs: Any,
) -> VideoTransformer:
    """Divided space-time video classifier on any registered lgvit backbone.

    Table 7 arithmetic (RegionViT, 400 classes): each block gains ``5 C^2 + 9 C + T C`` temporal
    parameters (qkv, proj, temporal_fc, LayerNorm, position embedding). RegionViT-S: 30.13M image model +
    5 * (2*96^2 + 2*192^2 + 8*384^2 + 2*768^2) = 12.26M (+0.07M small terms) = 42.46M vs 42.9M (-1.0%);
    RegionViT-M (stage 3 depth 14): 40.73M + 16.68M + 0.1M = 57.55M vs 57.5M. FLOPs: the same
    ``5 C^2`` per token and frame adds ~17.2G (S) / ~24.1G (M) to 8 frames of the image model
    (5.3G / 7.4G each): 59.66G vs 59.4G, 83.40G vs 83.1G (fvcore).

    Args:
        backbone: a registered lgvit model name (``lgvit.list_models()``); ``backbone_kwargs`` override its
            architecture (dims, depths, heads, window, ...), e.g. for small CPU models.
        num_classes: classifier outputs (K400: 400, SSv2: 174).
        num_frames: frames per clip T.
        space_time: "divided" (the paper's model), "joint" (joint space-time baseline) or "space" (no
            temporal modelling: the image model averaged over frames; an ablation). See VideoTransformer.
        drop_path_rate: stochastic depth of the backbone (the temporal branches use their block's rate).
        pretrained: optional image checkpoint (ours, a trainer's, or the family's official format); the
            temporal parts stay fresh.
    """
    image_model = lgvit.create_model(
        backbone, num_classes=num_classes, drop_path_rate=drop_path_rate, **backbone_kwargs
    )
    model = VideoTransformer(image_model, num_frames=num_frames, space_time=space_time)
    if pretrained:
        load_image_checkpoint(model, pretrained)
    return model
