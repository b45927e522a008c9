"""Multi-head self-attention on ``(B, N, C)`` tokens with an optional additive bias, fused via SDPA, and the
one attention kernel call every lgvit family makes (:func:`attention`)."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from timm.layers import register_notrace_function

from .mask import onnx_exporting


def _explicit_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, attn_mask: torch.Tensor | None
) -> torch.Tensor:
    """``softmax(q k^T / sqrt(d) + mask) v`` written out (inference only). torch.onnx (2.14) decomposes
    ``scaled_dot_product_attention`` into ops whose output strides differ from the fused kernel's that
    the export recorded, and then fails on the reshape after it ("Cannot view a tensor ..."); the
    explicit form has one layout. Equal to SDPA within float rounding."""
    attn = (q * q.shape[-1] ** -0.5) @ k.transpose(-2, -1)
    if attn_mask is not None:
        attn = attn + attn_mask.to(attn.dtype)
    return attn.softmax(dim=-1) @ v


@register_notrace_function  # branches on dtype and device: FX keeps it as one call
def attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    attn_mask: torch.Tensor | None = None,
    dropout_p: float = 0.0,
) -> torch.Tensor:
    """``F.scaled_dot_product_attention(q, k, v, attn_mask, dropout_p)`` on ``(B, heads, N, head_dim)``,
    except for training in reduced precision on CPU, which takes SDPA's math kernel.

    Why: in torch 2.14 the CPU flash-attention *backward* in bfloat16 takes 2.5-5x the math kernel's time
    on lgvit's shapes (fwd + bwd, 1 thread: ``(16, 4, 49, 32)`` 8.9 vs 2.6 ms, ``(256, 3, 50, 32)`` 188 vs
    65 ms), while in float32, and for inference in any precision, the flash kernel is the faster one
    (float32 ``(256, 3, 50, 32)``: 65 vs 91 ms). Both compute the same attention. Without this, a bfloat16
    autocast training step of RSIR-T spends half its time in that backward and gains nothing over float32.
    A floating mask is cast to the query's dtype (as SDPA does under autocast).
    """
    if onnx_exporting():
        return _explicit_attention(q, k, v, attn_mask)
    if q.device.type == "cpu" and q.dtype != torch.float32 and q.requires_grad and torch.is_grad_enabled():
        if attn_mask is not None and attn_mask.is_floating_point():
            attn_mask = attn_mask.to(q.dtype)
        return torch.ops.aten._scaled_dot_product_attention_math(q, k, v, attn_mask, dropout_p)[0]
    return F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, dropout_p=dropout_p)


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
        x = attention(q, k, v, bias, self.attn_drop if self.training else 0.0)
        x = x.transpose(1, 2).reshape(B, N, C)
        return self.proj_drop(self.proj(x))
