"""Normalisation layers for channel-first (NCHW) maps."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channel dimension of an NCHW map.

    Equivalent to the official RegionViT ``LayerNorm2d`` (which stores its affine parameters as
    ``(1, C, 1, 1)``; the converter reshapes them to ``(C,)``).
    """

    def __init__(self, num_channels: int, eps: float = 1e-5):
        super().__init__(num_channels, eps=eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # B, C, H, W
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)
