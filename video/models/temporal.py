"""Space-time attention around an lgvit encoder block (TimeSformer, Bertasius et al. 2021).

An image backbone run on a clip sees a batch of ``B*T`` frames (frame-major inside each clip). By the
lgvit encoder-block convention (:mod:`lgvit.models.base`) a block receives ``x`` ``(B*T, L, C)``: each
frame's ``L`` tokens in a frame-stable layout (token ``l`` is the same image position in every frame),
and the clip length ``T`` as an argument. So ``x.view(B, T, L, C)`` lines up the frames of every token
position, whatever the family: temporal attention at every token is attention over ``T`` on
``(B*L, T, C)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F
from timm.layers import DropPath

from lgvit.layers import Attention, reshape


def frames_to_positions(x: torch.Tensor, num_frames: int) -> torch.Tensor:
    """``(B*T, L, C)`` (frame-major per clip) -> ``(B*L, T, C)``: one length-T sequence per token
    position."""
    BT, L, C = x.shape
    if BT % num_frames:
        raise ValueError(
            f"{BT} frames are not a whole number of clips of {num_frames} frames; "
            "was the clip flattened frame-major, (B, T, ...) -> (B*T, ...)?"
        )
    B = BT // num_frames
    return reshape(x.reshape(B, num_frames, L, C).transpose(1, 2), [B * L, num_frames, C])


def positions_to_frames(x: torch.Tensor, tokens_per_frame: int) -> torch.Tensor:
    """Inverse of :func:`frames_to_positions`: ``(B*L, T, C)`` -> ``(B*T, L, C)``."""
    BL, T, C = x.shape
    B = BL // tokens_per_frame
    return reshape(x.reshape(B, tokens_per_frame, T, C).transpose(1, 2), [B * T, tokens_per_frame, C])


class TemporalAttention(nn.Module):
    """Pre-LN temporal self-attention with a temporal position embedding and a zero-initialised output
    projection ``temporal_fc``.

    ``forward(x, num_frames)``: x ``(B*T, L, C)`` -> the residual branch
    ``temporal_fc(attn(norm(x) + pos_embed))`` over T, same shape. The zero ``temporal_fc`` makes the
    branch exactly zero at initialisation, so a video model starts as its image model applied per frame
    (TimeSformer zero-initialises it for the same reason).

    Frame order comes from ``pos_embed`` ``(1, num_frames, C)``, added to the branch's normalised input
    and randomly initialised. TimeSformer instead adds one time embedding to the tokens after the patch
    embedding; to keep the model equal to the image model at initialisation that one would have to
    start at zero, and with it *and* ``temporal_fc`` at zero the gradient towards order-dependent
    features vanishes (a saddle point): on our motion-direction data such a model stayed at chance.
    Inside the branch, the embedding can be random, so order information flows from the first step.
    Other clip lengths interpolate it.
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

    def forward(self, x: torch.Tensor, num_frames: int) -> torch.Tensor:
        L = x.shape[1]
        xt = frames_to_positions(x, num_frames)  # B*L, T, C
        xt = self.norm(xt) + self.pos_embed_for(num_frames).to(xt.dtype)
        xt = self.temporal_fc(self.attn(xt))
        return positions_to_frames(xt, L)  # B*T, L, C


class DividedSpaceTimeBlock(nn.Module):
    """Temporal attention (+ residual) before an image encoder block that then runs per frame.

    Same calling convention as the wrapped block -- ``forward(x, num_frames, *family_args)`` with
    ``x`` ``(B*T, L, C)`` -- so it drops into ``stage.blocks[i]``; the clip length arrives as an argument
    on every call. Stochastic depth drops the temporal branch per clip (the spatial block keeps its own).
    """

    def __init__(
        self,
        spatial: nn.Module,
        dim: int,
        num_heads: int,
        num_frames: int = 8,
        drop_path: float = 0.0,
        qkv_bias: bool = True,
        norm_layer: Callable[[int], nn.Module] = nn.LayerNorm,
    ):
        super().__init__()
        self.temporal = TemporalAttention(
            dim, num_heads, num_frames, qkv_bias=qkv_bias, norm_layer=norm_layer
        )
        self.drop_path = DropPath(drop_path) if drop_path > 0.0 else nn.Identity()
        self.spatial = spatial

    def forward(self, x: torch.Tensor, num_frames: int, *args: Any, **kwargs: Any) -> torch.Tensor:
        BT, L, C = x.shape
        res = self.temporal(x, num_frames)  # B*T, L, C
        # per-clip stochastic depth: DropPath drops along dim 0, so put one clip per row
        res = self.drop_path(res.reshape(BT // num_frames, num_frames * L, C)).reshape(BT, L, C)
        return self.spatial(x + res, num_frames, *args, **kwargs)


class JointSpaceTimeAttention(nn.Module):
    """Joint space-time attention with the weights of an ``lgvit.layers.Attention``: each attention call
    of a block attends over its token group in *all* T frames of the clip at once (TimeSformer's "joint
    space-time"), instead of per frame.

    ``forward(x, bias, num_frames, num_groups)`` with x ``(B*T*G, N, C)`` frame-major (G token groups per
    frame: windows, regions; the encoder-block convention's attention call) regroups to
    ``(B*G, T*N, C)``; an additive bias ``(1 or B*T*G, heads, N, N)`` is applied between frames with the
    query frame's entries (a padding mask is the same in every frame). Its cost grows with ``(T*N)^2``.
    """

    def __init__(self, attn: Attention):
        super().__init__()
        self.attn = attn

    def forward(
        self, x: torch.Tensor, bias: torch.Tensor | None = None, num_frames: int = 1, num_groups: int = 1
    ) -> torch.Tensor:
        T, G = num_frames, num_groups
        BTG, N, C = x.shape
        if T == 1:
            return self.attn(x, bias)
        B = BTG // (T * G)
        xj = x.reshape(B, T, G, N, C).transpose(1, 2).reshape(B * G, T * N, C)
        if bias is not None:
            h = bias.shape[1]
            b = bias.expand(BTG, h, N, N).reshape(B, T, G, h, N, N).permute(0, 2, 3, 1, 4, 5)  # B,G,h,T,N,N
            bias = b.unsqueeze(-2).expand(B, G, h, T, N, T, N).reshape(B * G, h, T * N, T * N)
        y = self.attn(xj, bias)
        return y.reshape(B, G, T, N, C).transpose(1, 2).reshape(BTG, N, C)
