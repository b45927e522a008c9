"""Attention within semantic regions laid out by membership (SALG's Local-MSA, ``shared/papers/salg.txt``
Eq. 2), and the same computation as one operator for ``torch.compile``.

:func:`member_attention` takes the packed ``q|k|v`` projection of every block row and each token's region
and returns every row's attention output. Region ``r`` attends over exactly its members and its AGR
token: one sequence per region (:func:`lgvit.layers.member_layout`), padded to the batch's largest region,
so its length depends on the data.

A compiled graph cannot have a length that depends on data: inside one, the sequences would take the bound
``K*K`` (82-122 slots instead of about 60 at 224: twice the projections gathered, four times the scores).
So under ``torch.compile`` the computation is one custom operator, ``torch.ops.lgvit.member_attention``,
whose output shape is static (one row per block row) while its inside runs eagerly at the data's size;
its backward is a second operator (the gradient written out: the recorded autograd of the eager path is
not available inside an operator). Graphs captured for deployment (``torch.export``, ONNX, tracing) keep
plain aten ops and the ``K*K`` bound, so that any runtime can load them.
"""

from typing import Tuple

import torch
import torch.nn.functional as F

from .attention import SCORES_PER_CHUNK, _attend_head_, attention, sequences_per_chunk, writes_out
from .mask import capturing_graph, fixed_shapes
from .permute import unwindow_permuted_rows, window_permuted_rows
from .relpos import _gather, _scatter_table_grad, gather_bias
from .semantic_regions import member_layout, region_sizes, window_grid


def _layout(
    region: torch.Tensor, hw: Tuple[int, int], window: int, pad: int, agr: bool, fixed: bool
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, int]:
    """:func:`member_layout` of ``region`` ``(B, H*W)`` and its sequence length ``N``: the largest region
    of the batch, or with ``fixed`` (or without data: the meta device, an empty batch) the bound ``K*K``."""
    nh, nw = window_grid(hw, window)
    counts = region_sizes(region, nh * nw)
    k = window + 2 * pad
    capacity = k * k
    if not fixed and counts.device.type != "meta" and counts.numel() > 0:
        capacity = int(counts.max())
    rows, slots, back, bias_index = member_layout(region, counts, hw, (nh, nw), window, pad, agr, capacity)
    return rows, slots, back, bias_index, int(agr) + capacity


def _member_attention(
    qkv: torch.Tensor,
    region: torch.Tensor,
    table: torch.Tensor,
    hw: Tuple[int, int],
    window: int,
    pad: int,
    agr: bool,
    num_heads: int,
    dropout_p: float,
) -> torch.Tensor:
    """:func:`member_attention` in aten ops and lgvit's gathers (eager autograd, captured graphs)."""
    C = qkv.shape[1] // 3
    rows, slots, back, bias_index, N = _layout(region, hw, window, pad, agr, fixed_shapes())
    recording = torch.is_grad_enabled() and (qkv.requires_grad or table.requires_grad)
    if not recording and dropout_p == 0.0 and writes_out(qkv.device, qkv.dtype, N):
        return _member_attention_in_chunks(qkv, rows, back, bias_index, table.to(qkv.dtype), N, num_heads)
    S = bias_index.shape[0]  # B * regions
    seq = window_permuted_rows(qkv, rows, slots).reshape(S, N, 3, num_heads, C // num_heads)
    q, k, v = seq.permute(2, 0, 3, 1, 4).unbind(0)  # S, heads, N, head_dim
    bias = gather_bias(table.to(qkv.dtype), bias_index).reshape(S, num_heads, N, N)
    out = attention(q, k, v, bias, dropout_p).transpose(1, 2).reshape(S * N, C)
    return unwindow_permuted_rows(out, slots, back)


def _member_attention_in_chunks(
    qkv: torch.Tensor,
    rows: torch.Tensor,
    back: torch.Tensor,
    bias_index: torch.Tensor,
    table: torch.Tensor,
    N: int,
    num_heads: int,
    scores_per_chunk: int = SCORES_PER_CHUNK,
) -> torch.Tensor:
    """:func:`_member_attention` without a gradient to record, a chunk of sequences at a time: each chunk's
    rows are gathered, attended head by head and written to their block rows before the next chunk's, so
    the gathered rows, the pair bias and the scores of one chunk stay in cache. Gathering every sequence
    at once allocates fresh memory for them on every call (35 MB for SALG-T's first stage at batch 8,
    above glibc's largest reuse threshold: each page faults on first touch), about 40% of the layer's
    time there. The same numbers as the one-gather form (the same per-head products)."""
    C = qkv.shape[1] // 3
    d = C // num_heads
    S = bias_index.shape[0]
    scale = d**-0.5
    # one more row than the block: the padding slots' outputs (``back`` = that row) land there, unread
    out = qkv.new_empty(qkv.shape[0] + 1, C)
    rows, back = rows.reshape(S, N), back.reshape(S, N)
    chunk = sequences_per_chunk(N, N, scores_per_chunk)
    for start in range(0, S, chunk):
        end = min(start + chunk, S)
        n = end - start
        seq = qkv.index_select(0, rows[start:end].reshape(n * N)).reshape(n, N, 3, num_heads, d)
        bias = _gather(table, bias_index[start:end]).reshape(n, num_heads, N, N)
        y = qkv.new_empty(n, N, num_heads, d)
        for h in range(num_heads):
            _attend_head_(
                seq[:, :, 0, h], seq[:, :, 1, h], seq[:, :, 2, h], bias[:, h], scale, 0.0, y[:, :, h]
            )
        out.index_copy_(0, back[start:end].reshape(n * N), y.reshape(n * N, C))
    return out[:-1]


# both operators read the largest region on the host (a synchronisation): never inside a CUDA graph
_TAGS = (torch.Tag.cudagraph_unsafe,)


@torch.library.custom_op("lgvit::member_attention", mutates_args=(), tags=_TAGS)
def _member_attention_op(
    qkv: torch.Tensor,
    region: torch.Tensor,
    table: torch.Tensor,
    height: int,
    width: int,
    window: int,
    pad: int,
    agr: bool,
    num_heads: int,
) -> torch.Tensor:
    with torch.no_grad():  # the gradient is the backward operator's
        return _member_attention(qkv, region, table, (height, width), window, pad, agr, num_heads, 0.0)


@_member_attention_op.register_fake
def _(qkv, region, table, height, width, window, pad, agr, num_heads):
    return qkv.new_empty(qkv.shape[0], qkv.shape[1] // 3)


@torch.library.custom_op("lgvit::member_attention_backward", mutates_args=(), tags=_TAGS)
def _member_attention_backward_op(
    grad: torch.Tensor,
    qkv: torch.Tensor,
    region: torch.Tensor,
    table: torch.Tensor,
    height: int,
    width: int,
    window: int,
    pad: int,
    agr: bool,
    num_heads: int,
) -> Tuple[torch.Tensor, torch.Tensor]:
    """The gradients of ``qkv`` and ``table``: the forward recomputed at the data's size (the layout and
    the attention probabilities), then the attention's backward written out."""
    C = qkv.shape[1] // 3
    rows, slots, back, bias_index, N = _layout(region, (height, width), window, pad, agr, False)
    S, d = bias_index.shape[0], C // num_heads
    q, k, v = qkv.index_select(0, rows).reshape(S, N, 3, num_heads, d).permute(2, 0, 3, 1, 4).unbind(0)
    scale = d**-0.5
    probs = torch.matmul(q * scale, k.transpose(-2, -1))
    probs = probs.add_(_gather(table.to(qkv.dtype), bias_index).reshape(S, num_heads, N, N)).softmax(-1)
    # the write-back read slot `rows`' row for each block row; padding slots (back = no row) get zero
    grad_out = F.pad(grad, (0, 0, 0, 1)).index_select(0, back).reshape(S, N, num_heads, d).transpose(1, 2)
    grad_v = torch.matmul(probs.transpose(-2, -1), grad_out)
    grad_probs = torch.matmul(grad_out, v.transpose(-2, -1))
    grad_scores = probs.mul_(grad_probs - (grad_probs * probs).sum(-1, keepdim=True))  # softmax backward
    grad_q = torch.matmul(grad_scores, k).mul_(scale)
    grad_k = torch.matmul(grad_scores.transpose(-2, -1), q).mul_(scale)
    # every block row is read by exactly one slot as a real token; the other reads (padding) carry no
    # gradient (masked keys: zero probability; padding queries: zero output gradient)
    grad_seq = torch.stack((grad_q, grad_k, grad_v)).permute(1, 3, 0, 2, 4).reshape(S * N, 3 * C)
    grad_qkv = grad_seq.index_select(0, slots)
    grad_table = _scatter_table_grad(grad_scores.reshape(S, num_heads, N * N), bias_index, table)
    return grad_qkv, grad_table


@_member_attention_backward_op.register_fake
def _(grad, qkv, region, table, height, width, window, pad, agr, num_heads):
    return torch.empty_like(qkv), torch.empty_like(table)


def _setup_context(ctx, inputs, output) -> None:
    qkv, region, table, *ctx.args = inputs
    ctx.save_for_backward(qkv, region, table)


def _backward(ctx, grad: torch.Tensor):
    qkv, region, table = ctx.saved_tensors
    grad_qkv, grad_table = _member_attention_backward_op(grad, qkv, region, table, *ctx.args)
    return (grad_qkv, None, grad_table) + (None,) * len(ctx.args)


_member_attention_op.register_autograd(_backward, setup_context=_setup_context)


@torch.jit.unused
def _compiling_with_operator(dropout_p: float) -> bool:
    # attention dropout would need the forward's random mask in the backward: such runs keep the bound
    return torch.compiler.is_compiling() and not capturing_graph() and dropout_p == 0.0


def member_attention(
    qkv: torch.Tensor,
    region: torch.Tensor,
    table: torch.Tensor,
    hw: Tuple[int, int],
    window: int,
    pad: int,
    agr: bool,
    num_heads: int,
    dropout_p: float = 0.0,
) -> torch.Tensor:
    """Each token's attention within its semantic region.

    Args:
        qkv: ``(B*L, 3C)`` the packed ``q|k|v`` projection (``(q|k|v, head, head_dim)`` channels) of every
            block row, ``L = nA + H*W`` (``nA`` AGR tokens when ``agr``, then the map row-major).
        region: long ``(B, H*W)`` region of every map token (:func:`lgvit.layers.assign_regions`, cropped).
        table: ``(heads, Kc * (Kc + 1))`` pair bias of a coverage area with a last key column that masks
            (the block's ``bias_table``; see :func:`lgvit.layers.member_layout` for the codes).
        hw, window, pad, agr, num_heads: the map size, ``ws``, ``p``, AGR tokens, heads.
        dropout_p: attention dropout.

    Returns:
        ``(B*L, C)`` every block row's output (before the output projection).
    """
    if not torch.jit.is_scripting() and _compiling_with_operator(dropout_p):
        return _member_attention_op(qkv, region, table, hw[0], hw[1], window, pad, agr, num_heads)
    return _member_attention(qkv, region, table, hw, window, pad, agr, num_heads, dropout_p)
