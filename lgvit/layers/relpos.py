"""Relative position bias between the local tokens of one ``window x window`` region."""

import torch
import torch.nn.functional as F


def relative_position_index(window: int) -> torch.Tensor:
    """``(M*M, M*M)`` index into a ``(2M-1)^2`` table, Swin's layout: ``(dy + M-1) * (2M-1) + dx + M-1``,
    where ``(dy, dx)`` is the key's offset from the query."""
    coords = torch.stack(torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")).flatten(1)
    rel = coords[:, None, :] - coords[:, :, None] + (window - 1)  # 2, M*M (query), M*M (key)
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
