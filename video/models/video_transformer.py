"""A TimeSformer-style video classifier around any lgvit image backbone (RegionViT paper, 4.3 / A.4).

"We plug in the temporal attention before every R2L transformer encoder": every encoder block the
backbone lists (``backbone.encoder_blocks()``, the lgvit contract) is wrapped by
:class:`DividedSpaceTimeBlock` (temporal attention over the T frames at every token position, then the
spatial block per frame). The clip length is passed down explicitly on every call
(``backbone.forward_features(frames, num_frames=T)`` -> each block), never stored in a module.
``temporal_fc`` starts at zero, so at initialisation the video model *is* the image model applied to each
frame with its features averaged over frames; ImageNet weights load without loss.

Classification: the backbone's normalised final features are averaged over time, then the backbone's
own ``forward_head`` pools over space and classifies.
"""

from __future__ import annotations

from functools import partial

import torch
import torch.nn as nn
from timm.layers import DropPath

from lgvit.layers import Attention, reshape

from .temporal import DividedSpaceTimeBlock, JointSpaceTimeAttention

SPACE_TIME = ("divided", "joint", "space")


def _block_width_heads(block: nn.Module) -> tuple[int, int]:
    """Width and heads of an lgvit encoder block, from its (first) ``lgvit.layers.Attention``."""
    attn = next((m for m in block.modules() if isinstance(m, Attention)), None)
    if attn is None:
        raise TypeError(
            f"cannot wrap {type(block).__name__}: divided space-time attention needs an lgvit encoder block "
            "with an lgvit.layers.Attention to read its width and heads from"
        )
    return attn.qkv.in_features, attn.num_heads


def _drop_prob(block: nn.Module) -> float:
    dp = getattr(block, "drop_path", None)
    return float(dp.drop_prob) if isinstance(dp, DropPath) else 0.0


def _norm_eps(block: nn.Module) -> float:
    norm = next((m for m in block.modules() if isinstance(m, nn.LayerNorm)), None)
    return float(norm.eps) if norm is not None else 1e-6


class VideoTransformer(nn.Module):
    """Video classifier: ``(B, C, T, H, W)`` clips -> ``(B, num_classes)`` logits.

    Args:
        backbone: an lgvit image model (:class:`lgvit.LGViTModel`). It is modified in place.
        num_frames: T the temporal position embeddings are learned for (other T are interpolated).
        space_time: ``"divided"`` (temporal attention before every block, the paper's model), ``"joint"``
            (no temporal module; every attention call of every block attends over its token group in all
            frames at once -- TimeSformer's joint space-time baseline, same weights as the image model),
            or ``"space"`` (the ablation "no temporal modelling": the image model averaged over frames).
    """

    def __init__(self, backbone: nn.Module, num_frames: int = 8, space_time: str = "divided"):
        super().__init__()
        if num_frames < 1:
            raise ValueError(f"num_frames must be >= 1, got {num_frames}")
        if space_time not in SPACE_TIME:
            raise ValueError(f"space_time must be one of {SPACE_TIME}, got {space_time!r}")
        if not callable(getattr(backbone, "encoder_blocks", None)):
            raise TypeError(
                f"{type(backbone).__name__} is not an lgvit model (no encoder_blocks()); build the backbone "
                "with lgvit.create_model"
            )
        self.backbone = backbone
        self.num_frames = num_frames
        self.space_time = space_time
        self.num_classes = getattr(backbone, "num_classes", 0)
        # image-model names of the wrapped blocks: their weights live under "<name>.spatial." here
        self.wrapped_blocks: list[str] = []
        for name, blk in backbone.encoder_blocks():
            if space_time == "divided":
                dim, heads = _block_width_heads(blk)
                wrapped = DividedSpaceTimeBlock(
                    blk,
                    dim,
                    heads,
                    num_frames,
                    drop_path=_drop_prob(blk),
                    norm_layer=partial(nn.LayerNorm, eps=_norm_eps(blk)),  # the block's own LayerNorm eps
                )
                backbone.set_submodule(name, wrapped)
                self.wrapped_blocks.append(name)
            elif space_time == "joint":
                # a declared capability of the block (lgvit encoder-block convention), not its type
                if not getattr(blk, "supports_joint_space_time", False):
                    raise ValueError(
                        f"joint space-time attention is defined for blocks whose attention calls take "
                        f"lgvit.layers.Attention's token groups (supports_joint_space_time); {name} is a "
                        f"{type(blk).__name__}: use space_time='divided'"
                    )
                for attn_name, m in list(blk.named_modules()):
                    if isinstance(m, Attention):
                        blk.set_submodule(attn_name, JointSpaceTimeAttention(m))

    @property
    def temporal(self) -> bool:
        return self.space_time != "space"

    def check_input(self, x: torch.Tensor) -> None:
        in_chans = getattr(self.backbone, "in_chans", 3)
        if x.ndim != 5 or x.shape[1] != in_chans:
            raise ValueError(
                f"expected a clip batch (B, {in_chans}, T, H, W), got shape {tuple(x.shape)}; "
                "pytorchvideo-style clips are (C, T, H, W) per sample"
            )

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, T, H, W)`` -> per-frame final feature maps ``(B, T, C', h, w)``."""
        self.check_input(x)
        B, C, T, H, W = x.shape
        frames = reshape(x.transpose(1, 2), [B * T, C, H, W])  # frame-major inside each clip
        feats = self.backbone.forward_features(frames, num_frames=T)  # B*T, C', h, w
        return feats.reshape(B, T, *feats.shape[1:])

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """``(B, T, C, h, w)`` -> logits: mean over time, then the backbone's head (pool over space)."""
        return self.backbone.forward_head(x.mean(dim=1), pre_logits)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))
