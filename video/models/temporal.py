"""Divided space-time attention (TimeSformer, Bertasius et al. 2021) around an image encoder block.

An image backbone run on a clip sees a batch of ``B*T`` frames (frame-major inside each clip), so a
spatial block receives tokens ``(B*T*G, N, C)``: G token groups per frame (RegionViT: the nW regions,
each ``[regional token, M*M local tokens]``) of N tokens. Viewed as ``(B, T, G, N, C)``, temporal
attention at every token position -- regional and local alike -- is attention over T for each
``(b, g, n)``, i.e. on ``(B*G*N, T, C)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F
from timm.layers import DropPath

from lgvit.layers import Attention


def frames_to_positions(x: torch.Tensor, num_frames: int, num_groups: int) -> torch.Tensor:
    """``(B*T*G, N, C)`` (frame-major per clip) -> ``(B*G*N, T, C)``: one length-T sequence per token
    position."""
    BTG, N, C = x.shape
    T, G = num_frames, num_groups
    if BTG % (T * G):
        raise ValueError(
            f"{BTG} token groups are not a whole number of clips of {T} frames x {G} groups; "
            "was the clip flattened frame-major, (B, T, ...) -> (B*T, ...)?"
        )
    B = BTG // (T * G)
    return x.view(B, T, G * N, C).transpose(1, 2).reshape(B * G * N, T, C)


def positions_to_frames(x: torch.Tensor, num_groups: int, tokens_per_group: int) -> torch.Tensor:
    """Inverse of :func:`frames_to_positions`: ``(B*G*N, T, C)`` -> ``(B*T*G, N, C)``."""
    BGN, T, C = x.shape
    G, N = num_groups, tokens_per_group
    B = BGN // (G * N)
    return x.view(B, G * N, T, C).transpose(1, 2).reshape(B * T * G, N, C)


class TemporalAttention(nn.Module):
    """Pre-LN temporal self-attention with a temporal position embedding and a zero-initialised output
    projection ``temporal_fc``.

    ``forward(x, num_frames, num_groups)``: x ``(B*T*G, N, C)`` -> the residual branch
    ``temporal_fc(attn(norm(x) + pos_embed))`` over T, same shape. The zero ``temporal_fc`` makes the
    branch exactly zero at initialisation, so a video model starts as its image model applied per frame
    (TimeSformer zero-initialises it for the same reason).

    Frame order comes from ``pos_embed`` ``(1, num_frames, C)``, added to the branch's normalised input
    and randomly initialised (std 0.02, like ViT/TimeSformer position embeddings). TimeSformer instead
    adds one time embedding to the tokens after the patch embedding; to keep the model equal to the
    image model at initialisation that one would have to start at zero, and with it *and*
    ``temporal_fc`` at zero the gradient towards order-dependent features vanishes (a saddle point): on
    our motion-direction data such a model stayed at chance. Inside the branch, the embedding can be
    random, so order information flows from the first step. Other clip lengths interpolate it.
    """

    def __init__(
        self,
        dim: int,
        num_heads: int,
        num_frames: int = 8,
        qkv_bias: bool = True,
        attn_drop: float = 0.0,
        norm_layer: Callable[[int], nn.Module] = nn.LayerNorm,
    ):
        super().__init__()
        self.norm = norm_layer(dim)
        self.pos_embed = nn.Parameter(torch.zeros(1, num_frames, dim))
        self.attn = Attention(dim, num_heads, qkv_bias=qkv_bias, attn_drop=attn_drop)
        self.temporal_fc = nn.Linear(dim, dim)
        # Behind the zero temporal_fc any initialisation keeps the video model equal to the image model, so
        # the branch starts *active*: unit-scale position embedding (like the LayerNorm'd tokens it is
        # added to) and LeCun-scaled weights, so attention over time is already order-dependent.
        nn.init.trunc_normal_(self.pos_embed, std=1.0)
        for lin in (self.attn.qkv, self.attn.proj):
            nn.init.trunc_normal_(lin.weight, std=dim**-0.5)
            if lin.bias is not None:
                nn.init.zeros_(lin.bias)
        nn.init.zeros_(self.temporal_fc.weight)
        nn.init.zeros_(self.temporal_fc.bias)

    @torch.jit.ignore
    def no_weight_decay(self) -> set[str]:
        return {"pos_embed"}

    def pos_embed_for(self, num_frames: int) -> torch.Tensor:
        """``(1, T, C)``; nearest interpolation for another T (as TimeSformer does for its time embedding)."""
        pe = self.pos_embed
        if num_frames != pe.shape[1]:
            pe = F.interpolate(pe.transpose(1, 2), size=num_frames, mode="nearest").transpose(1, 2)
        return pe

    def forward(self, x: torch.Tensor, num_frames: int, num_groups: int) -> torch.Tensor:
        N = x.shape[1]
        xt = frames_to_positions(x, num_frames, num_groups)  # B*G*N, T, C
        xt = self.norm(xt) + self.pos_embed_for(num_frames).to(xt.dtype)
        xt = self.temporal_fc(self.attn(xt))
        return positions_to_frames(xt, num_groups, N)  # B*T*G, N, C


class ClipBlock(nn.Module):
    """An encoder block that needs the clip length: the video model sets :attr:`num_frames`."""

    num_frames: int = 1


class DividedSpaceTimeBlock(ClipBlock):
    """Temporal attention (+ residual) before an image encoder block that runs per frame.

    Same call signature as the wrapped block -- ``forward(x, num_regions, ...)`` with x
    ``(B*T*nW, N, C)``, the rest passed through -- so it drops into ``stage.blocks[i]``.
    The clip length T is not visible in that signature; the owning video model sets
    :attr:`num_frames` before each forward.

    Stochastic depth drops the temporal branch per clip (the spatial block keeps its own rule).
    """

    def __init__(
        self,
        spatial: nn.Module,
        dim: int,
        num_heads: int,
        num_frames: int = 8,
        drop_path: float = 0.0,
        qkv_bias: bool = True,
        norm_layer: type[nn.Module] = nn.LayerNorm,
    ):
        super().__init__()
        self.num_frames = num_frames
        self.temporal = TemporalAttention(
            dim, num_heads, num_frames, qkv_bias=qkv_bias, norm_layer=norm_layer
        )
        self.drop_path = DropPath(drop_path) if drop_path > 0.0 else nn.Identity()
        self.spatial = spatial

    def forward(self, x: torch.Tensor, num_regions: int = 1, *args: Any, **kwargs: Any) -> torch.Tensor:
        """x ``(B*T*nW, N, C)``; ``num_regions`` = nW per frame; further arguments (padding bias, region
        size, ...) go to the spatial block unchanged."""
        BTG, N, C = x.shape
        res = self.temporal(x, self.num_frames, num_regions)  # B*T*nW, N, C
        # per-clip stochastic depth: DropPath drops along dim 0, so put one clip per row
        res = self.drop_path(res.reshape(BTG // (self.num_frames * num_regions), -1, C)).reshape(BTG, N, C)
        return self.spatial(x + res, num_regions, *args, **kwargs)
