"""A TimeSformer-style video classifier around any lgvit image backbone (RegionViT paper, 4.3 / A.4).

"We plug in the temporal attention before every R2L transformer encoder": every block in
``backbone.stages[i].blocks`` is wrapped by :class:`DividedSpaceTimeBlock` (temporal attention over the
T frames at every token position, regional and local, then the spatial block per frame). Frame order
enters through a temporal position embedding inside each temporal attention (see
:class:`TemporalAttention` for why not TimeSformer's single input time embedding). ``temporal_fc``
starts at zero, so at initialisation the video model *is* the image model applied to each frame with
its logits averaged over frames; ImageNet weights load without loss.

Classification: the backbone's normalised final regional tokens are averaged over space and time,
then the backbone's head (``forward_head`` of the image model, reused).
"""

from __future__ import annotations

from functools import partial

import torch
import torch.nn as nn
from timm.layers import DropPath

from .temporal import ClipBlock, DividedSpaceTimeBlock


def _block_width_heads(block: nn.Module) -> tuple[int, int]:
    """Width and heads of an lgvit encoder block (its ``attn`` is an ``lgvit.layers.Attention``)."""
    attn = getattr(block, "attn", None)
    if attn is None or not hasattr(attn, "qkv") or not hasattr(attn, "num_heads"):
        raise TypeError(
            f"cannot wrap {type(block).__name__}: divided space-time attention needs an lgvit block with an "
            "`attn` (lgvit.layers.Attention) to read its width and heads from"
        )
    return attn.qkv.in_features, attn.num_heads


def _drop_prob(block: nn.Module) -> float:
    dp = getattr(block, "drop_path", None)
    return float(dp.drop_prob) if isinstance(dp, DropPath) else 0.0


class VideoTransformer(nn.Module):
    """Video classifier: ``(B, 3, T, H, W)`` clips -> ``(B, num_classes)`` logits.

    Args:
        backbone: an lgvit image model with ``stages[i].blocks`` (encoder blocks called as
            ``block(x, num_groups, ...)`` on ``(B*G, N, C)`` tokens), ``forward_features`` returning a
            ``(B, C, h, w)`` map and ``forward_head``. It is modified in place (blocks wrapped).
        num_frames: T the temporal position embeddings are learned for (other T are interpolated).
        temporal: False gives the ablation "no temporal modelling": no temporal attention, i.e. the
            image model averaged over frames (invariant to frame order by construction).
    """

    def __init__(self, backbone: nn.Module, num_frames: int = 8, temporal: bool = True):
        super().__init__()
        if num_frames < 1:
            raise ValueError(f"num_frames must be >= 1, got {num_frames}")
        if not hasattr(backbone, "stages"):
            raise TypeError(f"{type(backbone).__name__} has no `stages`; expected an lgvit backbone")
        self.backbone = backbone
        self.num_frames = num_frames
        self.temporal = temporal
        self.num_classes = getattr(backbone, "num_classes", 0)
        if temporal:
            for stage in backbone.stages:
                for i, blk in enumerate(stage.blocks):
                    dim, heads = _block_width_heads(blk)
                    eps = getattr(getattr(blk, "norm1", None), "eps", 1e-6)  # same LayerNorm as the block
                    stage.blocks[i] = DividedSpaceTimeBlock(
                        blk,
                        dim,
                        heads,
                        num_frames,
                        drop_path=_drop_prob(blk),
                        norm_layer=partial(nn.LayerNorm, eps=eps),
                    )

    def spacetime_blocks(self) -> list[ClipBlock]:
        return [m for m in self.modules() if isinstance(m, ClipBlock)]

    def check_input(self, x: torch.Tensor) -> None:
        in_chans = getattr(self.backbone, "in_chans", 3)
        if x.ndim != 5 or x.shape[1] != in_chans:
            raise ValueError(
                f"expected a clip batch (B, {in_chans}, T, H, W), got shape {tuple(x.shape)}; "
                "pytorchvideo-style clips are (C, T, H, W) per sample"
            )

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 3, T, H, W)`` -> per-frame final feature maps ``(B, T, C, h, w)``."""
        self.check_input(x)
        B, C, T, H, W = x.shape
        for blk in self.spacetime_blocks():
            blk.num_frames = T
        frames = x.transpose(1, 2).reshape(B * T, C, H, W)  # frame-major inside each clip
        feats = self.backbone.forward_features(frames)  # B*T, C', h, w
        return feats.view(B, T, *feats.shape[1:])

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """``(B, T, C, h, w)`` -> logits: mean over time and space, then the backbone's head."""
        B, T, C, h, w = x.shape
        # (B, C, T*h, w): the backbone's spatial mean over it is the mean over space and time
        return self.backbone.forward_head(x.permute(0, 2, 1, 3, 4).reshape(B, C, T * h, w), pre_logits)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))
