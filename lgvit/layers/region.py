"""Pure helpers that group local tokens by region (RegionViT's R2L layout) and undo it.

A *region* is the ``window x window`` block of local tokens under one regional token. The local map
is padded at the bottom/right so that it is exactly ``(Hr * window, Wr * window)`` for a regional grid
of ``Hr x Wr``; the reverse crops the padding away again.
"""

import torch
import torch.nn.functional as F


def region_partition(
    regional: torch.Tensor, local: torch.Tensor, window: int
) -> tuple[torch.Tensor, tuple[int, int]]:
    """Packs each regional token with the local tokens of its region.

    Args:
        regional: ``(B, C, Hr, Wr)`` regional tokens.
        local: ``(B, C, H, W)`` local tokens with ``H <= Hr * window`` and ``W <= Wr * window``.
        window: region side M, in local tokens.

    Returns:
        ``tokens`` of shape ``(B * Hr * Wr, 1 + M * M, C)`` (regional token first, then the region's
        local tokens in row-major order, regions in row-major order per image), and the local map's
        un-padded ``(H, W)`` that :func:`region_unpartition` needs.
    """
    B, C, H, W = local.shape
    Hr, Wr = regional.shape[-2:]
    pad_h, pad_w = Hr * window - H, Wr * window - W
    if pad_h < 0 or pad_w < 0:
        raise ValueError(
            f"local map {H}x{W} is larger than the regional grid {Hr}x{Wr} times window {window}"
        )
    if pad_h or pad_w:
        local = F.pad(local, (0, pad_w, 0, pad_h))
    local = local.view(B, C, Hr, window, Wr, window).permute(0, 2, 4, 3, 5, 1)
    local = local.reshape(B * Hr * Wr, window * window, C)  # B*nW, M*M, C
    regional = regional.flatten(2).transpose(1, 2).reshape(B * Hr * Wr, 1, C)  # B*nW, 1, C
    return torch.cat((regional, local), dim=1), (H, W)


def region_unpartition(
    tokens: torch.Tensor, batch: int, regional_hw: tuple[int, int], local_hw: tuple[int, int], window: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Inverse of :func:`region_partition`.

    Args:
        tokens: ``(B * Hr * Wr, 1 + M * M, C)``.
        batch: B.
        regional_hw: ``(Hr, Wr)``.
        local_hw: the un-padded local ``(H, W)`` returned by :func:`region_partition`.
        window: region side M.

    Returns:
        ``regional`` ``(B, C, Hr, Wr)`` and ``local`` ``(B, C, H, W)`` (padding cropped).
    """
    Hr, Wr = regional_hw
    H, W = local_hw
    C = tokens.shape[-1]
    regional = tokens[:, 0].reshape(batch, Hr, Wr, C).permute(0, 3, 1, 2)
    local = tokens[:, 1:].reshape(batch, Hr, Wr, window, window, C).permute(0, 5, 1, 3, 2, 4)
    local = local.reshape(batch, C, Hr * window, Wr * window)[:, :, :H, :W]
    return regional.contiguous(), local.contiguous()


def region_padding_mask(
    regional_hw: tuple[int, int], local_hw: tuple[int, int], window: int, device: torch.device | None = None
) -> torch.Tensor | None:
    """Which (query, key) pairs of the local attention may attend, when the local map was padded.

    Reproduces the official RegionViT mask exactly (``convert_to_flatten_layout``), so that pretrained
    models give the same outputs at any size. Per region, the pattern is the outer product of a
    per-token validity vector with itself:

    * regions in the right column (all rows but the last) mask the padded right columns;
    * regions in the bottom row mask the padded bottom rows;
    * the bottom-right region takes the right-column pattern, with the block of un-padded *rows*
      fully opened (the official code overwrites it) -- so there, padded right columns next to valid
      rows stay visible. This is a quirk of the reference implementation that we keep for parity.

    Padded query rows that are fully masked attend uniformly (their outputs are cropped later).

    Returns:
        ``None`` when no padding was needed, else a bool tensor ``(Hr * Wr, 1 + M * M, 1 + M * M)``,
        True where attention is allowed.
    """
    Hr, Wr = regional_hw
    H, W = local_hw
    pad_b, pad_r = Hr * window - H, Wr * window - W
    if pad_b == 0 and pad_r == 0:
        return None
    n = 1 + window * window
    idx = torch.arange(window * window, device=device)
    ones = torch.ones(1, dtype=torch.bool, device=device)
    col_ok = torch.cat((ones, idx % window < window - pad_r))  # 1 + M*M
    row_ok = torch.cat((ones, idx < window * (window - pad_b)))
    right = col_ok[:, None] & col_ok[None, :]
    bottom = row_ok[:, None] & row_ok[None, :]
    mask = torch.ones(Hr * Wr, n, n, dtype=torch.bool, device=device)
    mask[Wr - 1 : (Hr - 1) * Wr : Wr] = right
    mask[(Hr - 1) * Wr :] = bottom
    mask[-1] = right | bottom
    return mask
