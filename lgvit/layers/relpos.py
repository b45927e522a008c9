"""Relative position bias between the local tokens of one region."""

from typing import Tuple

import torch
import torch.nn.functional as F
from timm.layers import register_notrace_function

from .mask import capturing_graph


def relative_position_index(window: int, grid: Tuple[int, int] | None = None) -> torch.Tensor:
    """Index ``(h*w, h*w)`` into a ``(2M-1)^2`` table (M = ``window``), Swin's layout:
    ``(dy + M-1) * (2M-1) + dx + M-1`` where ``(dy, dx)`` is the key's offset from the query.

    ``grid`` = ``(h, w)`` (default ``(M, M)``) is the region actually attended; a region smaller than
    the window (see :func:`lgvit.layers.region.region_window`) uses the table's central entries.
    """
    h, w = grid if grid is not None else (window, window)
    if h > window or w > window:
        raise ValueError(f"region {h}x{w} is larger than the window {window}")
    coords = torch.stack(torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")).flatten(1)
    rel = coords[:, None, :] - coords[:, :, None] + (window - 1)  # 2, h*w (query), h*w (key)
    return rel[0] * (2 * window - 1) + rel[1]


def official_to_canonical_table(table: torch.Tensor, window: int) -> torch.Tensor:
    """Reorders an official RegionViT ``rel_pos`` table ``(heads, (2M-1)^2)`` into our layout.

    The official index is ``tmp[dy + M//2, dx + M//2]`` on a ``(2M-1) x (2M-1)`` grid, with Python's
    negative indexing wrapping offsets below ``-M//2`` to the end: a permutation of our layout.
    """
    side = 2 * window - 1
    offsets = torch.arange(side) - (window - 1)  # canonical row c holds offset c - (M-1)
    official_pos = (offsets + window // 2) % side
    grid = table.reshape(table.shape[0], side, side)
    return grid[:, official_pos][:, :, official_pos].reshape(table.shape[0], side * side)


def canonical_to_official_table(table: torch.Tensor, window: int) -> torch.Tensor:
    """Inverse of :func:`official_to_canonical_table`."""
    side = 2 * window - 1
    offsets = torch.arange(side) - (window - 1)
    inverse = torch.argsort((offsets + window // 2) % side)
    grid = table.reshape(table.shape[0], side, side)
    return grid[:, inverse][:, :, inverse].reshape(table.shape[0], side * side)


def resize_rel_pos_table(table: torch.Tensor, new_window: int) -> torch.Tensor:
    """Bicubic resize of a canonical ``(heads, (2M-1)^2)`` table to another window (RegionViT A.1)."""
    heads, n = table.shape
    side = int(round(n**0.5))
    new_side = 2 * new_window - 1
    if side == new_side:
        return table
    grid = table.reshape(1, heads, side, side).float()
    grid = F.interpolate(grid, size=(new_side, new_side), mode="bicubic", align_corners=False)
    return grid.reshape(heads, new_side * new_side).to(table.dtype)


def _gather(table: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    S, n = index.shape
    return torch.gather(
        table.unsqueeze(0).expand(S, -1, -1), 2, index.unsqueeze(1).expand(-1, table.shape[0], n)
    )


def _scatter_table_grad(grad: torch.Tensor, index: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """The gradient of ``table`` ``(heads, M)`` from that of ``_gather(table, index)`` ``(S, heads, n)``:
    one ``index_add_`` into the small table (autograd's gather backward would scatter into a zero copy of
    the table per sequence)."""
    flat = grad.transpose(0, 1).reshape(table.shape[0], grad.shape[0] * grad.shape[2])
    return torch.zeros_like(table).index_add_(1, index.reshape(-1), flat.to(table.dtype))


class _GatherBias(torch.autograd.Function):
    """:func:`gather_bias` with its backward in one ``index_add_`` (:func:`_scatter_table_grad`)."""

    @staticmethod
    def forward(ctx, table: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(index, table)
        return _gather(table, index)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        index, table = ctx.saved_tensors
        return _scatter_table_grad(grad, index, table), None


@torch.jit.unused
def _gather_bias_autograd(table: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    return _GatherBias.apply(table, index)


@register_notrace_function  # a custom autograd function: FX keeps it as one call
def gather_bias(table: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Per-head bias of many sequences from one small table: ``table`` ``(heads, M)``, long ``index``
    ``(S, n)`` -> ``(S, heads, n)`` with ``out[s, h, i] = table[h, index[s, i]]``, laid out as attention
    takes its bias (``n = N*N`` query-key pairs of ``S`` sequences). Scripted, exported and traced graphs
    take the plain gather (the same values and gradient)."""
    if torch.jit.is_scripting() or capturing_graph():
        return _gather(table, index)
    return _gather_bias_autograd(table, index)
