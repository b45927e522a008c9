"""Loading image (ImageNet) checkpoints into a :class:`VideoTransformer`, through :mod:`lgvit.checkpoint`.

The image checkpoint is read and passed through the backbone family's own filter (official format,
window adaptation), then renamed: everything moves under ``backbone.``, and the weights of each wrapped
encoder block ``<name>.X`` to ``<name>.spatial.X``. The temporal parts (temporal attention with its
position embedding and ``temporal_fc``) are not in an image checkpoint: they keep their fresh
initialisation and are reported as missing. A classifier of another size is dropped and reported.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from lgvit.checkpoint import (
    DETECTION_ONLY_KEYS,
    CheckpointError,
    LoadReport,
    adapt_state_dict,
    classifier_prefix,
    load_state_dict,
)
from lgvit.checkpoint import read_state_dict as _read_state_dict

from .temporal import DividedSpaceTimeBlock
from .video_transformer import VideoTransformer

logger = logging.getLogger(__name__)

TEMPORAL_KEYS = ("*.temporal.*",)  # new in the video model: never in an image checkpoint


@dataclass
class VideoLoadReport(LoadReport):
    """:class:`lgvit.checkpoint.LoadReport` plus the temporal attentions initialised from spatial ones."""

    from_spatial: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            super().summary()
            + f"; temporal attentions initialised from their spatial attention: {len(self.from_spatial) // 3}"
        )


def image_to_video_state_dict(
    state_dict: Mapping[str, torch.Tensor], model: VideoTransformer
) -> dict[str, torch.Tensor]:
    """Renames image keys to video keys (``backbone.`` prefix, ``.spatial`` inside wrapped blocks)."""
    wrapped = sorted(model.wrapped_blocks, key=len, reverse=True)
    out = {}
    for k, v in state_dict.items():
        for name in wrapped:
            if k.startswith(name + "."):
                k = f"{name}.spatial.{k[len(name) + 1 :]}"
                break
        out[f"backbone.{k}"] = v
    return out


def copy_spatial_to_temporal(model: VideoTransformer) -> list[str]:
    """TimeSformer's initialisation: each temporal attention starts from its block's pretrained spatial
    attention (``qkv``, ``proj``: the block's first ``lgvit.layers.Attention``) and the LayerNorm before
    it. ``temporal_fc`` stays zero, so the model still equals the image model. Returns the names of the
    temporal parameters set this way."""
    from lgvit.layers import Attention

    copied = []
    for name, m in model.named_modules():
        if not isinstance(m, DividedSpaceTimeBlock):
            continue
        attn = next((a for a in m.spatial.modules() if isinstance(a, Attention)), None)
        norm = next((n for n in m.spatial.modules() if isinstance(n, torch.nn.LayerNorm)), None)
        if attn is None or norm is None:
            continue
        with torch.no_grad():
            m.temporal.attn.load_state_dict(attn.state_dict())
            m.temporal.norm.load_state_dict(norm.state_dict())
        copied += [f"{name}.temporal.{k}" for k in ("attn.qkv.weight", "attn.proj.weight", "norm.weight")]
    return copied


def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The one checkpoint reader (:func:`lgvit.checkpoint.read_state_dict`)."""
    return _read_state_dict(path)


def load_image_checkpoint(
    model: VideoTransformer,
    checkpoint: str | os.PathLike | Mapping[str, Any],
    temporal_from_spatial: bool = True,
) -> VideoLoadReport:
    """Loads an image checkpoint (ours, a trainer's, or the family's official format, any window) into
    ``model``'s backbone. Every backbone weight must be there (else a CheckpointError names what is
    missing: another variant?); the temporal parts start fresh -- with ``temporal_from_spatial`` as
    copies of the pretrained spatial attention (TimeSformer does this), ``temporal_fc`` at zero."""
    sd = _read_state_dict(checkpoint)
    if any(k.startswith("backbone.") for k in sd):
        raise CheckpointError(
            "this is a video checkpoint (keys start with 'backbone.'); use --resume or --weights for it"
        )
    sd = adapt_state_dict(sd, model.backbone)
    own = model.backbone.state_dict()
    head = classifier_prefix(model.backbone) or "head"
    dropped = sorted(
        k for k in sd if k.startswith(head + ".") and (k not in own or own[k].shape != sd[k].shape)
    )
    sd = image_to_video_state_dict({k: v for k, v in sd.items() if k not in dropped}, model)
    dropped = [f"backbone.{k}" for k in dropped]
    detection_only = tuple(f"backbone.{k}" for k in DETECTION_ONLY_KEYS)  # extras, or left at init
    base = load_state_dict(
        model,
        sd,
        strict=True,
        ignore_missing=TEMPORAL_KEYS + tuple(dropped) + detection_only,
        what="the video model's backbone",
        ignore_unexpected=detection_only,
    )
    report = VideoLoadReport(
        loaded=base.loaded, missing=base.missing, unexpected=base.unexpected, dropped=dropped
    )
    if temporal_from_spatial:
        report.from_spatial = copy_spatial_to_temporal(model)
    logger.info("loaded image checkpoint into the video model: %s", report.summary())
    return report
