"""Token permutations and windows of permuted tokens (RSIR's RS-Win and IR-Win, ``shared/papers/rsir.txt``
Algorithms 1-2), as pure functions on ``(B, L, C)`` token sequences.

* :func:`random_permutation` -- a uniformly random permutation per sequence (Algorithm 1: argsort of
  ``torch.rand``; draws from the global generator, so ``torch.manual_seed`` reproduces it).
* :func:`fixed_permutation` -- a deterministic pseudo-random permutation of ``L`` tokens for a ``seed``
  (an integer hash of the position, then argsort): the same on every device, process and call.
* :func:`importance_permutation` -- tokens sorted by an importance score, most important first
  (Algorithm 2; ties broken by position so the order is deterministic).
* :func:`inverse_permutation` -- the inverse, by one scatter (cheaper than a second argsort).
* :func:`permute_tokens` -- ``x[b, perm[b, l]]`` whose backward is the same gather by the inverse
  permutation (no scatter-add, no index ``repeat`` over channels: one row gather of the flattened batch).
* :func:`window_permutation_rows`, :func:`window_permuted_rows`, :func:`unwindow_permuted_rows` -- the
  windows of several token orders (RSIR's two head groups) in one row gather of a packed ``qkv`` and
  back in another, each with a gather as its backward, padding folded into the indices.
* :func:`token_window_partition` / :func:`token_window_unpartition` -- consecutive windows of ``n``
  tokens of a (permuted) sequence, padding the end; :func:`token_window_bias` masks the padding keys.
"""

from typing import Tuple

import torch
import torch.nn.functional as F
from timm.layers import register_notrace_function

from .mask import capturing_graph, crop, mask_bias, onnx_exporting


def _hash32(x: torch.Tensor) -> torch.Tensor:
    """A bijective 32-bit integer mix of an int64 tensor with values in [0, 2^32) (xorshift and the
    odd multiplier 0x45D9F3B are bijections mod 2^32; the products stay below 2^59, no int64 overflow)."""
    x = ((x >> 16) ^ x) * 0x45D9F3B & 0xFFFFFFFF
    x = ((x >> 16) ^ x) * 0x45D9F3B & 0xFFFFFFFF
    return (x >> 16) ^ x


def fixed_permutation(length: int, seed: int, device: torch.device) -> torch.Tensor:
    """A deterministic pseudo-random permutation ``(length,)`` (int64) of ``range(length)`` for ``seed``.

    The keys ``hash(l + seed * golden)`` are distinct (the hash is a bijection), so the argsort has no
    ties: the result depends only on ``(length, seed)``, not on the device, process or RNG state."""
    pos = torch.arange(length, device=device, dtype=torch.int64)
    keys = _hash32((pos + (seed * 0x9E3779B9 & 0xFFFFFFFF)) & 0xFFFFFFFF)
    return torch.argsort(keys)


def random_permutation(batch: int, length: int, device: torch.device) -> torch.Tensor:
    """``(batch, length)`` uniformly random permutations, one per row (Algorithm 1)."""
    return torch.argsort(torch.rand(batch, length, device=device), dim=1)


def importance_permutation(score: torch.Tensor) -> torch.Tensor:
    """``score`` ``(B, L)`` -> ``(B, L)`` token order by decreasing score (Algorithm 2; equal scores keep
    their positional order, so the permutation is deterministic). No gradient flows through it."""
    if onnx_exporting():  # ONNX has no stable sort; its TopK breaks ties by the lower index (the same order)
        return torch.topk(score.detach(), score.shape[1], dim=1, largest=True, sorted=True)[1]
    return torch.sort(score.detach(), dim=1, descending=True, stable=True)[1]


def inverse_permutation(perm: torch.Tensor) -> torch.Tensor:
    """``perm`` ``(B, L)`` -> ``inv`` with ``inv[b, perm[b, l]] = l``."""
    pos = torch.arange(perm.shape[1], device=perm.device, dtype=perm.dtype).expand(perm.shape[0], -1)
    return torch.empty_like(perm).scatter_(1, perm, pos)


def _flat_index(perm: torch.Tensor) -> torch.Tensor:
    """``(B, L)`` per-row indices -> ``(B*L,)`` row indices into the flattened ``(B*L, ...)`` batch."""
    B, L = perm.shape
    offsets = torch.arange(B, device=perm.device, dtype=perm.dtype).unsqueeze(1) * L
    return (perm + offsets).reshape(-1)


class _PermuteTokens(torch.autograd.Function):
    """Row gather by a permutation whose backward is the row gather by the inverse permutation."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, index: torch.Tensor, inverse: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(inverse)
        return x.index_select(0, index)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (inverse,) = ctx.saved_tensors
        return grad.index_select(0, inverse), None, None


@torch.jit.unused
def _permute_rows_autograd(x: torch.Tensor, index: torch.Tensor, inverse: torch.Tensor) -> torch.Tensor:
    return _PermuteTokens.apply(x, index, inverse)


@register_notrace_function  # a custom autograd function: FX keeps it as one call
def permute_tokens(x: torch.Tensor, perm: torch.Tensor, inverse: torch.Tensor) -> torch.Tensor:
    """``x`` ``(B, L, C)`` -> ``y`` ``(B, L, C)`` with ``y[b, l] = x[b, perm[b, l]]``.

    ``inverse`` must be :func:`inverse_permutation` of ``perm``: the gradient is gathered by it
    (``dx[b, l] = dy[b, inverse[b, l]]``), as cheap as the forward. Undo with
    ``permute_tokens(y, inverse, perm)``. Scripted, exported and traced graphs take the plain row gather
    (the same values; autograd's own backward, a scatter)."""
    B, L, C = x.shape
    flat = x.reshape(B * L, C)
    if torch.jit.is_scripting():
        y = flat.index_select(0, _flat_index(perm))
    elif capturing_graph():
        y = flat.index_select(0, _flat_index(perm))
    else:
        y = _permute_rows_autograd(flat, _flat_index(perm), _flat_index(inverse))
    return y.reshape(B, L, C)


class _GatherRows(torch.autograd.Function):
    """Row gather ``y = x[index]`` whose backward is the row gather ``dx = dy[back]`` (``back[i]`` = the
    row of ``y`` that copies row ``i`` of ``x``; ``back[i] = len(y)`` reads a zero row: rows that no
    output copies)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, index: torch.Tensor, back: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(back)
        return x.index_select(0, index)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (back,) = ctx.saved_tensors
        return F.pad(grad, (0, 0, 0, 1)).index_select(0, back), None, None


def window_permutation_rows(
    perm: torch.Tensor, window_tokens: int
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Row indices that put ``G`` token orders of the same sequences into windows with one gather, and
    back with another.

    The tokens' features are rows ``(b*L + l)*G + g`` of a ``(B*L*G, D)`` table (the ``G`` head groups'
    channels of a token side by side, as one linear layer produces them). Group ``g`` of sequence ``b``
    visits its tokens in the order ``perm[b, g]``, cut into ``nW = ceil(L / n)`` windows of ``n =
    window_tokens`` consecutive tokens; the last window is padded with copies of the group's last token
    (the caller masks them as keys and crops their outputs, so they never carry a gradient).

    Args:
        perm: long ``(B, G, L)``, each row a permutation of ``range(L)``.
        window_tokens: ``n``.

    Returns:
        ``index`` long ``(B*G*nW*n,)``: the table row of every windowed position (image, group, position
        in the group's order; padding last in each group); ``inverse`` long ``(B*L*G,)``: where each table
        row sits among them; ``back``: ``index`` with the padded positions set to ``B*L*G`` (no row).
    """
    B, G, L = perm.shape
    Lp = (L + window_tokens - 1) // window_tokens * window_tokens
    dev = perm.device
    steps = torch.arange(Lp, device=dev)
    group = torch.arange(G, device=dev)
    batch = torch.arange(B, device=dev)
    index = (batch[:, None, None] * L + perm[:, :, steps.clamp(max=L - 1)]) * G + group[None, :, None]
    back = torch.where(steps < L, index, torch.full_like(index, B * L * G))
    slot = (batch[:, None, None] * G + group[None, :, None]) * Lp + torch.arange(L, device=dev)  # B, G, L
    inverse = torch.empty_like(perm).scatter_(2, perm, slot)  # inverse[b, g, perm[b, g, j]] = slot j
    return index.reshape(B * G * Lp), inverse.transpose(1, 2).reshape(B * L * G), back.reshape(B * G * Lp)


@torch.jit.unused
def _gather_rows_autograd(x: torch.Tensor, index: torch.Tensor, back: torch.Tensor) -> torch.Tensor:
    return _GatherRows.apply(x, index, back)


@register_notrace_function  # a custom autograd function: FX keeps it as one call
def window_permuted_rows(x: torch.Tensor, index: torch.Tensor, inverse: torch.Tensor) -> torch.Tensor:
    """``x`` ``(B*L*G, D)`` -> ``(B*G*nW*n, D)``: the rows in every group's order, in windows
    (:func:`window_permutation_rows`). The backward is the gather by ``inverse`` (no scatter-add): each row
    is windowed once, and the copies padding the last windows get no gradient (masked keys, cropped
    queries). Scripted, exported and traced graphs take the plain row gather (the same values)."""
    if torch.jit.is_scripting():
        return x.index_select(0, index)
    elif capturing_graph():
        return x.index_select(0, index)
    return _permute_rows_autograd(x, index, inverse)


@register_notrace_function  # a custom autograd function: FX keeps it as one call
def unwindow_permuted_rows(y: torch.Tensor, inverse: torch.Tensor, back: torch.Tensor) -> torch.Tensor:
    """The windowed outputs ``y`` ``(B*G*nW*n, D)`` back in token order, groups side by side: ``(B*L*G, D)``
    (the padding dropped). The backward is the gather by ``back`` (a zero row for the padded positions).
    Scripted, exported and traced graphs take the plain row gather (the same values)."""
    if torch.jit.is_scripting():
        return y.index_select(0, inverse)
    elif capturing_graph():
        return y.index_select(0, inverse)
    return _gather_rows_autograd(y, inverse, back)


def token_window_partition(x: torch.Tensor, window_tokens: int) -> Tuple[torch.Tensor, int]:
    """``x`` ``(B, L, C)`` -> ``(B * nW, n, C)`` windows of ``n = window_tokens`` consecutive tokens,
    ``nW = ceil(L / n)``; the sequence end is zero-padded. Returns the windows and the padding count."""
    B, L, C = x.shape
    num_windows = (L + window_tokens - 1) // window_tokens
    pad = num_windows * window_tokens - L  # no branch on it: the same code for every (symbolic) length
    x = F.pad(x, (0, 0, 0, pad))
    return x.reshape(B * num_windows, window_tokens, C), pad


def token_window_unpartition(windows: torch.Tensor, batch: int, length: int) -> torch.Tensor:
    """``(B * nW, n, C)`` -> ``(B, length, C)``: the inverse of :func:`token_window_partition` (crops the
    padding)."""
    n, C = windows.shape[1], windows.shape[2]
    num_windows = (length + n - 1) // n
    return crop(windows.reshape(batch, num_windows * n, C), 1, length)


def token_window_bias(
    batch: int, length: int, window_tokens: int, dtype: torch.dtype, device: torch.device
) -> torch.Tensor:
    """Additive key mask ``(B * nW, 1, 1, n)`` for the windows of :func:`token_window_partition`: 0 for
    real tokens, a large negative value for the padding at the sequence end (no real query attends to
    it; padded queries attend to the real keys of their window and are cropped). Built with float
    arithmetic only (Inductor on CPU mis-vectorises bool-mask arithmetic)."""
    num_windows = (length + window_tokens - 1) // window_tokens
    pos = torch.arange(num_windows * window_tokens, device=device, dtype=torch.float32)
    is_real = 1.0 - torch.clamp(pos - (length - 1), 0.0, 1.0)  # 0.0 for positions >= length, else 1.0
    bias = mask_bias(is_real, dtype).reshape(num_windows, 1, 1, window_tokens)
    # repeat, not expand + reshape: whether that reshape is a view depends on batch == 1, which
    # torch.export would specialise on
    return bias.repeat(batch, 1, 1, 1)
