"""Pure helpers that group local tokens by region (RegionViT's R2L layout) and undo it.

A *region* is the ``wh x ww`` block of local tokens under one regional token (``window x window``
normally). The local map is padded at the bottom/right so that it is exactly ``(Hr * wh, Wr * ww)``
for a regional grid of ``Hr x Wr``; the reverse crops the padding away again.
"""

from typing import Tuple, Union

import torch
import torch.nn.functional as F

from .mask import capturing_graph, contiguous, crop, reshape


def _pair(window: Union[int, Tuple[int, int]]) -> Tuple[int, int]:
    return (window, window) if isinstance(window, int) else (int(window[0]), int(window[1]))


def region_partition(
    regional: torch.Tensor, local: torch.Tensor, window: Union[int, Tuple[int, int]]
) -> Tuple[torch.Tensor, Tuple[int, int]]:
    """Packs each regional token with the local tokens of its region.

    Args:
        regional: ``(B, C, Hr, Wr)`` regional tokens.
        local: ``(B, C, H, W)`` local tokens with ``H <= Hr * wh`` and ``W <= Wr * ww``.
        window: region size in local tokens, ``M`` or ``(wh, ww)``.

    Returns:
        ``tokens`` of shape ``(B * Hr * Wr, 1 + wh * ww, C)`` (regional token first, then the region's
        local tokens in row-major order, regions in row-major order per image), and the local map's
        un-padded ``(H, W)`` that :func:`region_unpartition` needs.
    """
    wh, ww = _pair(window)
    B, C, H, W = local.shape
    Hr, Wr = regional.shape[-2:]
    pad_h, pad_w = Hr * wh - H, Wr * ww - W
    if not capturing_graph() and (pad_h < 0 or pad_w < 0):  # (no guard on symbolic sizes)
        raise ValueError(
            f"local map {H}x{W} is larger than the regional grid {Hr}x{Wr} times window {wh}x{ww}"
        )
    local = F.pad(local, (0, pad_w, 0, pad_h))  # no branch on the sizes (a zero pad is a copy)
    local = local.view(B, C, Hr, wh, Wr, ww).permute(0, 2, 4, 3, 5, 1)
    local = reshape(local, [B * Hr * Wr, wh * ww, C])  # B*nW, wh*ww, C
    regional = reshape(regional.permute(0, 2, 3, 1), [B * Hr * Wr, 1, C])  # B*nW, 1, C
    return torch.cat((regional, local), dim=1), (H, W)


def region_unpartition(
    tokens: torch.Tensor,
    batch: int,
    regional_hw: Tuple[int, int],
    local_hw: Tuple[int, int],
    window: Union[int, Tuple[int, int]],
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Inverse of :func:`region_partition`.

    Args:
        tokens: ``(B * Hr * Wr, 1 + wh * ww, C)``.
        batch: B.
        regional_hw: ``(Hr, Wr)``.
        local_hw: the un-padded local ``(H, W)`` returned by :func:`region_partition`.
        window: ``M`` or ``(wh, ww)``, as given to :func:`region_partition`.

    Returns:
        ``regional`` ``(B, C, Hr, Wr)`` and ``local`` ``(B, C, H, W)`` (padding cropped).
    """
    wh, ww = _pair(window)
    Hr, Wr = regional_hw
    H, W = local_hw
    C = tokens.shape[-1]
    regional = reshape(tokens[:, 0], [batch, Hr, Wr, C]).permute(0, 3, 1, 2)
    local = reshape(tokens[:, 1:], [batch, Hr, Wr, wh, ww, C]).permute(0, 5, 1, 3, 2, 4)
    local = crop(crop(local.reshape(batch, C, Hr * wh, Wr * ww), 2, H), 3, W)
    return contiguous(regional), contiguous(local)


def region_window(
    regional_hw: Tuple[int, int], local_hw: Tuple[int, int], window: int, clip: bool
) -> Tuple[int, int]:
    """The region size to use: ``(window, window)``, or with ``clip``, shrunk along an axis where a
    single region covers the whole (smaller) local map -- the padding there would be pure waste."""
    if not clip:
        return window, window
    (Hr, Wr), (H, W) = regional_hw, local_hw
    return (min(window, H) if Hr == 1 else window), (min(window, W) if Wr == 1 else window)


def region_padding_mask(
    regional_hw: Tuple[int, int],
    local_hw: Tuple[int, int],
    window: Union[int, Tuple[int, int]],
    strict: bool = False,
    device: torch.device | None = None,
) -> torch.Tensor | None:
    """Which (query, key) pairs of the local attention may attend, when the local map was padded.

    ``strict=False`` reproduces the official RegionViT mask exactly (``convert_to_flatten_layout``),
    so that official checkpoints give the same outputs at any size. Per region, the pattern is the
    outer product of a per-token validity vector with itself:

    * regions in the right column (all rows but the last) mask the padded right columns;
    * regions in the bottom row mask the padded bottom rows;
    * the bottom-right region takes the right-column pattern, with the block of un-padded *rows*
      fully opened (the official code overwrites it) -- so there, padded tokens next to valid rows
      or columns stay visible. A quirk of the reference implementation, kept for parity.

    ``strict=True`` masks every padded token in every region (what the paper describes).

    Fully masked (padded) query rows attend uniformly; their outputs are cropped later.

    Returns:
        ``None`` when no padding was needed, else a bool tensor ``(Hr * Wr, 1 + wh * ww, 1 + wh * ww)``,
        True where attention is allowed.
    """
    wh, ww = _pair(window)
    Hr, Wr = regional_hw
    H, W = local_hw
    if Hr * wh - H == 0 and Wr * ww - W == 0:
        return None
    return region_padding_allowed(regional_hw, local_hw, window, strict, device)


def region_padding_allowed(
    regional_hw: Tuple[int, int],
    local_hw: Tuple[int, int],
    window: Union[int, Tuple[int, int]],
    strict: bool = False,
    device: torch.device | None = None,
) -> torch.Tensor:
    """:func:`region_padding_mask` without its "no padding" shortcut: bool ``(Hr * Wr, 1 + wh * ww,
    1 + wh * ww)``, all True when nothing is padded. Written in closed form from the sizes (comparisons of
    ``arange``s, no in-place slice writes and no branch on the sizes), so that one traced or exported graph
    builds the right mask at every input size."""
    wh, ww = _pair(window)
    Hr, Wr = regional_hw
    H, W = local_hw
    if not strict and wh != ww:
        raise ValueError("the official padding mask is defined for square windows only")
    idx = torch.arange(wh * ww, device=device)
    ones = torch.ones(1, dtype=torch.bool, device=device)
    col_ok = torch.cat((ones, idx % ww < W - (Wr - 1) * ww))  # 1 + wh*ww: column inside the map
    row_ok = torch.cat((ones, idx // ww < H - (Hr - 1) * wh))  # row inside the map
    # per region (row-major): in the last column / row. From two aranges, not `r % Wr` (ONNX's exporter
    # cannot take a symbolic divisor)
    rows = torch.arange(Hr, device=device)[:, None]
    cols = torch.arange(Wr, device=device)[None, :]
    last_col = ((cols == Wr - 1) & (rows >= 0)).reshape(Hr * Wr)[:, None, None]  # Hr*Wr, 1, 1
    last_row = ((rows == Hr - 1) & (cols >= 0)).reshape(Hr * Wr)[:, None, None]
    if strict:
        valid = (col_ok[None] | ~last_col[:, :, 0]) & (row_ok[None] | ~last_row[:, :, 0])  # Hr*Wr, n
        return valid[:, :, None] & valid[:, None, :]
    right = (col_ok[:, None] & col_ok[None, :])[None]  # 1, n, n
    bottom = (row_ok[:, None] & row_ok[None, :])[None]
    # official: right column -> `right`, bottom row -> `bottom`, bottom-right region -> `right | bottom`
    return (
        (right | ~last_col | last_row)
        & (bottom | ~last_row | last_col)
        & (right | bottom | ~last_row | ~last_col)
    )
