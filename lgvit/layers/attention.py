"""Multi-head self-attention on ``(B, N, C)`` tokens with an optional additive bias, fused via SDPA."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Attention(nn.Module):
    """Standard multi-head self-attention.

    ``forward(x, bias, num_frames, num_groups)`` takes ``x`` ``(B, N, C)`` and an optional additive
    ``bias`` broadcastable to ``(B, heads, N, N)`` (relative positions, masks; 4-D so that SDPA's fused
    CPU/GPU kernels apply) and returns ``(B, N, C)``. ``num_frames`` / ``num_groups`` describe the batch
    dimension under the encoder-block convention: ``B = clips * num_frames * num_groups``, frame-major,
    ``num_groups`` token groups (windows, regions) per frame. Plain attention treats frames
    independently and ignores them; the video wrapper's joint space-time setting replaces this module by
    one that attends across the frames of each group.
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

    def forward(
        self, x: torch.Tensor, bias: torch.Tensor | None = None, num_frames: int = 1, num_groups: int = 1
    ) -> torch.Tensor:
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)  # B, heads, N, head_dim
        x = F.scaled_dot_product_attention(
            q, k, v, attn_mask=bias, dropout_p=self.attn_drop if self.training else 0.0
        )
        x = x.transpose(1, 2).reshape(B, N, C)
        return self.proj_drop(self.proj(x))
