"""Tokenizers and downsampling: the local-token stems of RegionViT Table 2, the regional (large-patch)
tokenizer, RegionViT's depthwise token downsampling and Swin's patch merging (SALG, RSIR)."""

from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F
from timm.layers import LayerNorm2d, register_notrace_module


class ConvStem(nn.Module):
    """Local-token stem with an overall stride of 4 (RegionViT Table 2).

    ``num_convs=3``: Conv(C/4, k3, s2) -> LN -> GELU -> Conv(C/2, k3, s2) -> LN -> GELU -> Conv(C, k3, s1).
    ``num_convs=1``: Conv(C, k8, s4, p3).
    Output size: ``ceil(H / 4)`` for the 3-conv stem, ``floor((H - 2) / 4) + 1`` for the 1-conv stem.
    """

    def __init__(
        self, in_chans: int, embed_dim: int, num_convs: int = 3, act_layer: type[nn.Module] = nn.GELU
    ):
        super().__init__()
        if num_convs == 3:
            self.proj = nn.Sequential(
                nn.Conv2d(in_chans, embed_dim // 4, kernel_size=3, stride=2, padding=1),
                LayerNorm2d(embed_dim // 4, eps=1e-5),
                act_layer(),
                nn.Conv2d(embed_dim // 4, embed_dim // 2, kernel_size=3, stride=2, padding=1),
                LayerNorm2d(embed_dim // 2, eps=1e-5),
                act_layer(),
                nn.Conv2d(embed_dim // 2, embed_dim, kernel_size=3, stride=1, padding=1),
            )
        elif num_convs == 1:
            self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=8, stride=4, padding=3)
        else:
            raise ValueError(f"ConvStem supports num_convs=1 or 3, got {num_convs}")
        self.num_convs = num_convs

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # B, 3, H, W -> B, C, H/4, W/4
        return self.proj(x)


@register_notrace_module  # input-size dependent padding: FX keeps it as one call
class RegionEmbed(nn.Module):
    """Regional tokens: a linear projection of non-overlapping ``patch_size`` patches.

    The image is zero-padded symmetrically (extra pixel at the right/bottom) to a multiple of
    ``patch_size`` first, as the official RegionViT does, so there are ``ceil(H / patch_size)`` rows.
    """

    def __init__(self, in_chans: int, embed_dim: int, patch_size: int):
        super().__init__()
        self.patch_size = patch_size
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # B, 3, H, W -> B, C, ceil(H/P), ceil(W/P)
        p = self.patch_size
        # ceil-division sizes, no branch: the same code for every (symbolic) size
        pad_h = (x.shape[-2] + p - 1) // p * p - x.shape[-2]
        pad_w = (x.shape[-1] + p - 1) // p * p - x.shape[-1]
        x = F.pad(x, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2))
        return self.proj(x)


class TokenDownsample(nn.Module):
    """Halves resolution and changes width with a 3x3 depthwise stride-2 conv, after LN + GELU.

    One module serves both token types (the official code shares the weights).
    """

    def __init__(self, in_chs: int, out_chs: int, act_layer: type[nn.Module] = nn.GELU):
        super().__init__()
        if out_chs % in_chs:
            raise ValueError(
                f"depthwise downsampling needs out_chs ({out_chs}) divisible by in_chs ({in_chs})"
            )
        self.norm = LayerNorm2d(in_chs, eps=1e-5)
        self.act = act_layer()
        self.conv = nn.Conv2d(in_chs, out_chs, kernel_size=3, stride=2, padding=1, groups=in_chs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # B, C, H, W -> B, C', ceil(H/2), ceil(W/2)
        return self.conv(self.act(self.norm(x)))


@register_notrace_module  # input-size dependent padding: FX keeps it as one call
class PatchMerging(nn.Module):
    """Swin's linear patch merging on NCHW maps: ``(B, C, H, W)`` -> ``(B, C', ceil(H/2), ceil(W/2))`` by
    concatenating each 2x2 neighbourhood in Swin's order (0,0), (1,0), (0,1), (1,1) (odd maps zero-padded at
    the bottom/right), then ``norm_layer(4C)`` and ``Linear(4C, C')`` without bias.

    Strided slices, not a 6-D reshape: the same code serves every (symbolic) size without divisibility
    guards under ``torch.export``."""

    def __init__(self, in_dim: int, out_dim: int, norm_layer: Callable[[int], nn.Module] = nn.LayerNorm):
        super().__init__()
        self.norm = norm_layer(4 * in_dim)
        self.reduction = nn.Linear(4 * in_dim, out_dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)  # B, H, W, C
        H, W = x.shape[1], x.shape[2]
        # pad to 2*ceil(H/2): written as a multiple of 2 (not H + H % 2), symbolic shapes see both
        # strided halves have the same length without a guard
        x = F.pad(x, (0, 0, 0, (W + 1) // 2 * 2 - W, 0, (H + 1) // 2 * 2 - H))
        x = torch.cat((x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]), dim=-1)
        return self.reduction(self.norm(x)).permute(0, 3, 1, 2)
