"""Joint space-time attention baseline (TimeSformer's "joint space-time"), for the benchmark only.

Same widths and weights as the divided model's spatial blocks, but each R2L block attends jointly:
RSA over the regional tokens of all T frames (``T*nW`` tokens) and LSA over one region's tokens in all
T frames (``T*(1 + M*M)`` tokens, the local relative-position bias tiled over frame pairs). No
temporal attention module, so it has fewer parameters; its attention cost grows with T^2.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn

from .temporal import ClipBlock
from .video_transformer import VideoTransformer


class JointSpaceTimeBlock(ClipBlock):
    """Runs an lgvit ``R2LBlock``'s parameters with joint space-time attention over T frames.

    ``forward(x, num_regions, pad_bias, region_hw)`` with x ``(B*T*nW, N, C)`` (frame-major per clip).
    The per-region padding mask is applied in every frame."""

    def __init__(self, block: nn.Module, num_frames: int = 8):
        super().__init__()
        for name in ("norm0", "norm1", "norm2", "attn", "mlp", "drop_path", "local_bias"):
            if not hasattr(block, name):
                raise TypeError(
                    f"the joint baseline wraps lgvit R2LBlocks; {type(block).__name__} has no {name}"
                )
        self.block, self.num_frames = block, num_frames

    def forward(
        self, x: torch.Tensor, num_regions: int, pad_bias: torch.Tensor | None = None, region_hw: Any = None
    ) -> torch.Tensor:
        blk, T, nW = self.block, self.num_frames, num_regions
        BTW, N, C = x.shape
        B = BTW // (T * nW)
        regional = x[:, 0]  # B*T*nW, C
        rsa = blk.attn(blk.norm0(regional.reshape(B, T * nW, C)))  # all regions of all frames
        regional_new = regional + blk.drop_path(rsa.flatten(0, 1))
        y = blk.norm1(x)
        y[:, 0] = blk.norm1(regional_new)
        y = y.view(B, T, nW, N, C).transpose(1, 2).reshape(B * nW, T * N, C)  # one region, all frames
        bias = blk.local_bias(region_hw).to(x.dtype).unsqueeze(0)  # 1, heads, N, N
        if pad_bias is not None:  # the same padding mask in every frame
            bias = (bias + pad_bias.to(x.dtype)).repeat(B, 1, 1, 1)  # B*nW, heads, N, N
        bias = bias.repeat(1, 1, T, T)  # tiled over frame pairs: ..., T*N, T*N
        y = blk.attn(y, bias).view(B, nW, T, N, C).transpose(1, 2).reshape(BTW, N, C)
        x = x + blk.drop_path(y)
        x[:, 0] += regional_new - regional
        return x + blk.drop_path(blk.mlp(blk.norm2(x)))


def build_joint_baseline(backbone: nn.Module, num_frames: int = 8) -> VideoTransformer:
    """A :class:`VideoTransformer` whose blocks attend jointly over space and time. (Its attention has
    no temporal position embedding: fine for measuring speed and memory, which is its purpose.)"""
    model = VideoTransformer(backbone, num_frames=num_frames, temporal=True)
    for stage in backbone.stages:
        for i, blk in enumerate(stage.blocks):
            stage.blocks[i] = JointSpaceTimeBlock(blk.spatial, num_frames)  # drop the temporal attention
    return model
