"""A TimeSformer-style video classifier around any lgvit image backbone (RegionViT paper, 4.3 / A.4).

"We plug in the temporal attention before every R2L transformer encoder": every block in
``backbone.stages[i].blocks`` is wrapped by :class:`DividedSpaceTimeBlock` (temporal attention over the
T frames at every token position, regional and local, then the spatial block per frame). As in
TimeSformer a learned time embedding is added to the tokens right after the embedding layers; without
it the model would be invariant to the order of the frames (temporal attention is permutation
equivariant and the pooling is a mean), and could not tell "left" from "right". Time embedding and
``temporal_fc`` start at zero, so at initialisation the video model *is* the image model applied to
each frame with its logits averaged over frames; ImageNet weights load without loss.

Classification: the backbone's normalised final regional tokens are averaged over space and time,
then the backbone's head (``forward_head`` of the image model, reused).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import torch
import torch.nn as nn
import torch.nn.functional as F
from timm.layers import DropPath

from .temporal import DividedSpaceTimeBlock


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
        num_frames: T the time embedding is learned for (other T at test time are interpolated).
        temporal: False gives the ablation "no temporal modelling": no temporal attention and no time
            embedding, i.e. the image model averaged over frames (order-invariant by construction).
        embed_modules: the backbone's token-embedding modules whose outputs get the time embedding.
    """

    def __init__(
        self,
        backbone: nn.Module,
        num_frames: int = 8,
        temporal: bool = True,
        embed_modules: Sequence[str] = ("patch_embed", "region_embed"),
    ):
        super().__init__()
        if num_frames < 1:
            raise ValueError(f"num_frames must be >= 1, got {num_frames}")
        if not hasattr(backbone, "stages"):
            raise TypeError(f"{type(backbone).__name__} has no `stages`; expected an lgvit backbone")
        self.backbone = backbone
        self.num_frames = num_frames
        self.temporal = temporal
        self.num_classes = getattr(backbone, "num_classes", 0)
        self._clip_len = num_frames  # T of the clip being processed (read by the embedding hook)
        self.time_embed = None
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
            embed_dim = backbone.pyramid_channels[0]
            self.time_embed = nn.Parameter(torch.zeros(1, num_frames, embed_dim))  # zero: TimeSformer init
            found = [name for name in embed_modules if hasattr(backbone, name)]
            if not found:
                raise ValueError(f"none of the embedding modules {list(embed_modules)} exist in the backbone")
            # a forward hook (not a wrapper module) keeps the backbone's parameter names unchanged
            for name in found:
                getattr(backbone, name).register_forward_hook(self._add_time_embed)

    @torch.jit.ignore
    def no_weight_decay(self) -> set[str]:
        return {"time_embed"} if self.time_embed is not None else set()

    def spacetime_blocks(self) -> list[DividedSpaceTimeBlock]:
        return [m for m in self.modules() if isinstance(m, DividedSpaceTimeBlock)]

    def _time_embed_for(self, T: int) -> torch.Tensor:
        te = self.time_embed  # 1, T0, C
        if T != te.shape[1]:  # TimeSformer: nearest interpolation for other clip lengths
            te = F.interpolate(te.transpose(1, 2), size=T, mode="nearest").transpose(1, 2)
        return te

    def _add_time_embed(self, module: nn.Module, inputs: tuple, out: torch.Tensor) -> torch.Tensor:
        BT, C, h, w = out.shape  # B*T, C, h, w (frame-major per clip)
        T = self._clip_len
        te = self._time_embed_for(T).to(out.dtype)
        return (out.view(BT // T, T, C, h, w) + te.view(1, T, C, 1, 1)).view(BT, C, h, w)

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
        self._clip_len = T
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
