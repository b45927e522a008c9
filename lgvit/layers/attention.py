"""Multi-head self-attention on ``(B, N, C)`` tokens with an optional additive bias, and the one attention
call every lgvit family makes (:func:`attention`: SDPA, or plain matrix multiplies where those are faster)."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from timm.layers import register_notrace_function

from .mask import fixed_shapes, mask_bias, onnx_exporting

# key lengths up to which the written-out attention beats SDPA's fused CPU kernel (see attention())
WRITTEN_OUT_MAX_KEYS = 128
# scores per chunk of the written-out inference: 2 MiB of float32, which stay in cache between the steps
SCORES_PER_CHUNK = 1 << 19


def _explicit_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    attn_mask: torch.Tensor | None,
    dropout_p: float = 0.0,
) -> torch.Tensor:
    """``softmax(q k^T / sqrt(d) + mask) v`` written out as one 4-D product each (a boolean mask, True:
    attend, becomes the additive mask). Two callers: the written-out form when a gradient is recorded
    (see :func:`_written_out_attention`), and ONNX export: torch.onnx (2.14) decomposes
    ``scaled_dot_product_attention`` into ops whose output strides differ from the fused kernel's that the
    export recorded, and then fails on the reshape after it ("Cannot view a tensor ..."); this form has
    one layout. Equal to SDPA within float rounding."""
    attn = torch.matmul(q * q.shape[-1] ** -0.5, k.transpose(-2, -1))
    if attn_mask is not None:
        if attn_mask.dtype == torch.bool:
            attn_mask = mask_bias(attn_mask, attn.dtype)
        attn = attn + attn_mask.to(attn.dtype)
    attn = attn.softmax(dim=-1)
    if dropout_p > 0.0:  # a Python branch: an exported graph (p = 0) holds no dropout op
        attn = F.dropout(attn, dropout_p)
    return torch.matmul(attn, v)


def sequences_per_chunk(queries: int, keys: int, scores_per_chunk: int = SCORES_PER_CHUNK) -> int:
    """How many sequences of ``queries x keys`` scores a written-out chunk holds: ``scores_per_chunk``
    scores (at least one sequence), so that a chunk's scores stay in cache from the first product to the
    second."""
    return max(1, scores_per_chunk // max(1, queries * keys))


def _attend_head_(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    bias: torch.Tensor | None,
    scale: float,
    dropout_p: float,
    out: torch.Tensor,
) -> None:
    """One head of a chunk of sequences, written out without recording a gradient: ``out`` ``(S, N, dv)``
    (any strides) receives ``softmax(q k^T * scale + bias) v`` of ``q`` ``(S, N, d)``, ``k``, ``v``
    ``(S, M, d|dv)`` and an additive ``bias`` broadcastable to ``(S, N, M)``; the scores are computed and
    normalised in place."""
    attn = torch.bmm(q, k.transpose(1, 2)).mul_(scale)
    if bias is not None:
        attn = attn.add_(bias)
    out.copy_(torch.bmm(F.dropout(attn.softmax(dim=-1), dropout_p), v))


def _written_out_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    attn_mask: torch.Tensor | None,
    dropout_p: float,
    scores_per_chunk: int = SCORES_PER_CHUNK,  # a default: TorchScript reads no module globals
) -> torch.Tensor:
    """``softmax(q k^T / sqrt(d) + mask) v`` in plain matrix multiplies on ``(B, heads, N, head_dim)`` (see
    :func:`attention`). Without a gradient to record it runs per head and in chunks of the batch, in
    place, so that each chunk's scores stay in cache from the product through the softmax to the second
    product. A boolean mask (True: attend) becomes the additive mask."""
    if torch.is_grad_enabled() and (
        q.requires_grad
        or k.requires_grad
        or v.requires_grad
        or (attn_mask is not None and attn_mask.requires_grad)
    ):
        return _explicit_attention(q, k, v, attn_mask, dropout_p)
    if attn_mask is not None and attn_mask.dtype == torch.bool:
        attn_mask = mask_bias(attn_mask, q.dtype)
    scale = q.shape[-1] ** -0.5
    B, H, L, N = q.shape[0], q.shape[1], q.shape[2], k.shape[2]
    mask = attn_mask
    if mask is not None and mask.dim() < 4:
        mask = mask.reshape([1] * (4 - mask.dim()) + list(mask.shape))
    chunk = sequences_per_chunk(L, N, scores_per_chunk)
    # one head at a time: q[:, h] of a packed (q|k|v, head) projection is a strided batch of matrices that
    # bmm takes as it is (a 4-D matmul copies q, k and v first); the output is stored (B, L, heads, dv), so
    # the caller's transpose(1, 2) back to channels needs no copy either
    out = torch.empty(B, L, H, v.shape[-1], dtype=q.dtype, device=q.device)
    for start in range(0, B, chunk):
        end = min(start + chunk, B)
        m: torch.Tensor | None = None
        if mask is not None:
            m = mask if mask.shape[0] == 1 else mask[start:end]
        for h in range(H):
            mh: torch.Tensor | None = None
            if m is not None:
                mh = m[:, h] if m.shape[1] != 1 else m[:, 0]
            _attend_head_(
                q[start:end, h], k[start:end, h], v[start:end, h], mh, scale, dropout_p, out[start:end, :, h]
            )
    return out.transpose(1, 2)


def writes_out(device: torch.device, dtype: torch.dtype, keys: int, trained_bias: bool = False) -> bool:
    """Whether :func:`attention` runs sequences of ``keys`` keys written out in matrix multiplies (eager
    CPU float32 up to :data:`WRITTEN_OUT_MAX_KEYS` keys, or with a bias that needs a gradient) rather than
    in SDPA's kernel; callers that lay out their own sequences (:func:`lgvit.layers.member_attention`)
    follow the same choice."""
    return (
        device.type == "cpu"
        and dtype == torch.float32
        and (_short(keys) or trained_bias)
        and not fixed_shapes()
    )


def _short(keys: int, max_keys: int = WRITTEN_OUT_MAX_KEYS) -> bool:
    return keys <= max_keys


@register_notrace_function  # branches on dtype and device: FX keeps it as one call
def attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    attn_mask: torch.Tensor | None = None,
    dropout_p: float = 0.0,
) -> torch.Tensor:
    """``F.scaled_dot_product_attention(q, k, v, attn_mask, dropout_p)`` on ``(B, heads, N, head_dim)``;
    on CPU in eager mode, for short sequences, in plain matrix multiplies.

    Why (torch 2.14, CPU): lgvit attends over many short sequences (49-122 keys: windows, regions). There
    SDPA's fused flash kernel is the slower one: inference 1.3-2.3x slower than the written-out form run
    in cached chunks (2 threads: ``(64, 4, 49, 32)`` 2.9 vs 1.4 ms, ``(512, 3, 59, 32)`` with a bias 28.6
    vs 14.0 ms), forward + backward 1.1-1.6x (``(512, 2, 49, 16)`` 33.0 vs 21.9 ms); at 196 keys without
    a bias it is the faster one. With a bias that needs a gradient SDPA falls back to its math kernel,
    whose fully-masked-row guard and separate scalings cost more than this form at any length. So on
    CPU, float32, up to :data:`WRITTEN_OUT_MAX_KEYS` keys or with a bias to train, the written-out form;
    training in reduced precision takes SDPA's math kernel (its flash backward in bfloat16 takes 2.5-5x
    as long on these shapes); everything else, and every captured or compiled graph, SDPA. All compute
    the same attention within float rounding. A floating mask is cast to the query's dtype (as SDPA
    does under autocast).
    """
    if onnx_exporting():
        return _explicit_attention(q, k, v, attn_mask)
    if q.device.type == "cpu":
        trained_bias = attn_mask is not None and attn_mask.requires_grad and torch.is_grad_enabled()
        if writes_out(q.device, q.dtype, k.shape[-2], trained_bias):
            return _written_out_attention(q, k, v, attn_mask, dropout_p)
        if q.dtype != torch.float32 and q.requires_grad and torch.is_grad_enabled():
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
