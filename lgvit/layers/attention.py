"""Multi-head self-attention on ``(B, N, C)`` tokens with an optional additive bias, fused via SDPA."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Attention(nn.Module):
    """Standard multi-head self-attention.

    ``forward(x, bias)`` takes ``x`` ``(*batch, N, C)`` and an optional additive ``bias`` broadcastable
    to ``(*batch, heads, N, N)`` (relative positions, masks) and returns ``(*batch, N, C)``. Extra batch
    dims are allowed, but only 4-D inputs and masks reach the fused kernels. Uses
    ``torch.nn.functional.scaled_dot_product_attention`` so the fused CPU/GPU kernels apply.
    """

    def __init__(
        self,
        dim: int,
        num_heads: int,
        qkv_bias: bool = True,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
    ):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"dim {dim} is not divisible by num_heads {num_heads}")
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.attn_drop = attn_drop
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        *batch, N, C = x.shape
        qkv = self.qkv(x).reshape(*batch, N, 3, self.num_heads, self.head_dim)
        q, k, v = qkv.movedim(-3, 0).transpose(-3, -2).unbind(0)  # *batch, heads, N, head_dim
        x = F.scaled_dot_product_attention(
            q, k, v, attn_mask=bias, dropout_p=self.attn_drop if self.training else 0.0
        )
        x = x.transpose(-3, -2).reshape(*batch, N, C)
        return self.proj_drop(self.proj(x))
