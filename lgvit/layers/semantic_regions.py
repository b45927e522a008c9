"""Pure, vectorised helpers of SALG's unsupervised semantic-aware region segmentation (SALG paper,
Sec. III-B, Eq. 1) and of its masked intra-region attention layout (Sec. III-C, Fig. 5).

Terms (``ws`` = window size, ``p`` = coverage expansion, ``K = ws + 2p``):

* The token map ``(H, W)`` is zero-padded at the bottom/right to ``(Hp, Wp) = (nh*ws, nw*ws)`` (the paper
  pads detection inputs to the window grid the same way); ``valid`` marks the real tokens.
* **Region means**: the mean of the valid tokens of each of the ``nR = nh*nw`` non-overlapping ``ws x ws``
  windows (row-major region index ``r = i*nw + j``).
* **Coverage area** of region ``r``: its window grown by ``p`` tokens on every side, ``K x K`` tokens.
  Positions outside the padded map are addressed in a map padded by ``p`` more on every side.
* **Assignment** (Eq. 1): every token goes to the region, among those whose coverage area contains it,
  whose mean has the largest cosine similarity with it. With ``p < ws`` only the token's own window and
  its 8 neighbours can cover it, so the candidates are those 9 (fewer at the borders). Ties go to the own
  window first (``argmax`` returns the first maximum and the own window is candidate 0); padded tokens
  always belong to their own window and are never *members* of any region (they are masked as keys).

No loop in here runs over regions or tokens (the only Python loop visits the 9 neighbour offsets).
Shapes are written in the docstrings; everything is TorchScript-compatible.
"""

from typing import List, Tuple

import torch
import torch.nn.functional as F

from .mask import reshape


def neighbour_offsets() -> Tuple[List[int], List[int]]:
    """The 9 candidate windows of a token as (row, column) offsets, own window first (ties resolve to
    it). (A function, not a module constant: TorchScript cannot close over global tuples.)"""
    return [0, -1, -1, -1, 0, 0, 1, 1, 1], [0, -1, 0, 1, -1, 1, -1, 0, 1]


def window_grid(hw: Tuple[int, int], window: int) -> Tuple[int, int]:
    """``(nh, nw)``: how many ``window x window`` windows cover an ``(H, W)`` map (ceil)."""
    return (hw[0] + window - 1) // window, (hw[1] + window - 1) // window


def pad_to_windows(x: torch.Tensor, window: int) -> torch.Tensor:
    """Zero-pads a channel-last map ``(B, H, W, C)`` at the bottom/right to whole windows:
    ``(B, nh*window, nw*window, C)``."""
    H, W = x.shape[1], x.shape[2]
    nh, nw = window_grid((H, W), window)
    # padded sizes written as multiples of the window (not H + (-H) % window), no branch: the same code
    # for every (symbolic) size
    return F.pad(x, (0, 0, 0, nw * window - W, 0, nh * window - H))


def valid_mask(hw: Tuple[int, int], window: int, device: torch.device) -> torch.Tensor:
    """Bool ``(Hp, Wp)``: True on the real tokens of an ``(H, W)`` map padded to whole windows."""
    nh, nw = window_grid(hw, window)
    rows = torch.arange(nh * window, device=device) < hw[0]
    cols = torch.arange(nw * window, device=device) < hw[1]
    return rows[:, None] & cols[None, :]


def region_means(x: torch.Tensor, valid: torch.Tensor, window: int) -> torch.Tensor:
    """Means of the valid tokens of every window.

    Args:
        x: ``(B, Hp, Wp, C)`` map padded to whole windows (padding must be zero or is ignored anyway).
        valid: bool ``(Hp, Wp)``.
        window: ``ws``.

    Returns:
        ``(B, nh*nw, C)``, regions row-major. Every window holds at least one valid token (the padding
        is less than one window), so no mean is empty.
    """
    B, Hp, Wp, C = x.shape
    nh, nw = Hp // window, Wp // window
    v = valid.to(x.dtype)
    # the window's rows first (sums of contiguous rows), then its columns: 10x faster than one reduction
    # over both strided dimensions
    s = (x * v[None, :, :, None]).reshape(B, nh, window, Wp * C).sum(2)  # B, nh, Wp*C
    s = s.reshape(B, nh, nw, window, C).sum(3)  # B, nh, nw, C
    n = v.reshape(nh, window, nw, window).sum(dim=(1, 3))  # nh, nw
    return (s / n[None, :, :, None]).reshape(B, nh * nw, C)


def coverage_index(grid: Tuple[int, int], window: int, pad: int, device: torch.device) -> torch.Tensor:
    """Flat indices ``(nR, K*K)`` of every region's coverage area (row-major inside the area) into the
    map padded to whole windows and then by ``pad`` on every side, ``(nh*ws + 2p) x (nw*ws + 2p)``."""
    nh, nw = grid
    k = window + 2 * pad
    width = nw * window + 2 * pad
    a = torch.arange(k, device=device)
    top = torch.arange(nh, device=device) * window  # area origin in the p-padded map
    left = torch.arange(nw, device=device) * window
    rows = top[:, None, None, None] + a[None, None, :, None]  # nh, 1, K, 1
    cols = left[None, :, None, None] + a[None, None, None, :]  # 1, nw, 1, K
    return (rows * width + cols).reshape(nh * nw, k * k)


def coverage_candidates(window: int, pad: int, device: torch.device) -> torch.Tensor:
    """Bool ``(ws*ws, 9)``: whether the coverage area of the window at each of
    :func:`neighbour_offsets` contains the token at ``(u, v)`` of a window (row-major)."""
    u = torch.arange(window, device=device)
    ok_rows: List[torch.Tensor] = []
    for d in (-1, 0, 1):  # neighbour above contains rows u < p, below rows u >= ws - p
        if d == 0:
            ok_rows.append(torch.ones(window, dtype=torch.bool, device=device))
        elif d < 0:
            ok_rows.append(u < pad)
        else:
            ok_rows.append(u >= window - pad)
    out: List[torch.Tensor] = []
    offs_i, offs_j = neighbour_offsets()
    for n in range(9):
        out.append((ok_rows[offs_i[n] + 1][:, None] & ok_rows[offs_j[n] + 1][None, :]).reshape(-1))
    return torch.stack(out, dim=1)


def _neighbours(grid_map: torch.Tensor) -> torch.Tensor:
    """``(B, nh, nw, C)`` -> ``(B, nh, nw, 9, C)``: each window's value at the 9 neighbour offsets
    (zero outside the grid)."""
    nh, nw = grid_map.shape[1], grid_map.shape[2]
    padded = F.pad(grid_map, (0, 0, 1, 1, 1, 1))
    out: List[torch.Tensor] = []
    offs_i, offs_j = neighbour_offsets()
    for n in range(9):
        di, dj = offs_i[n], offs_j[n]
        out.append(padded[:, 1 + di : 1 + di + nh, 1 + dj : 1 + dj + nw])
    return torch.stack(out, dim=3)


def assign_regions(
    x: torch.Tensor, means: torch.Tensor, valid: torch.Tensor, window: int, pad: int
) -> torch.Tensor:
    """Eq. 1: each token's region, by maximal cosine similarity among the means whose coverage area
    contains it.

    Args:
        x: ``(B, Hp, Wp, C)`` map padded to whole windows.
        means: ``(B, nh*nw, C)`` region means (:func:`region_means`).
        valid: bool ``(Hp, Wp)``.
        window, pad: ``ws`` and ``p`` (``0 <= p < ws``).

    Returns:
        long ``(B, Hp, Wp)``: the region index of every token (padded tokens: their own window).
    """
    B, Hp, Wp, C = x.shape
    nh, nw = Hp // window, Wp // window
    # cos(t, m) = (t . m/|m|) / |t|, and |t| > 0 is the same for all of a token's candidates: the argmax of
    # t . m/|m| is the argmax of the cosine similarity, without normalising every token of the map
    tok = x.reshape(B, nh, window, nw, window, C).permute(0, 1, 3, 2, 4, 5)
    tok = reshape(tok, [B, nh, nw, window * window, C])  # window layout
    m = F.normalize(means, dim=-1, eps=1e-6).reshape(B, nh, nw, C)
    sim = torch.einsum("bijtc,bijkc->bijtk", tok, _neighbours(m))  # B, nh, nw, ws*ws, 9
    ones = torch.ones(1, nh, nw, 1, dtype=x.dtype, device=x.device)
    exists = _neighbours(ones)[0, :, :, :, 0] > 0  # nh, nw, 9
    ok = exists[:, :, None, :] & coverage_candidates(window, pad, x.device)[None, None]  # nh, nw, ws*ws, 9
    sim = sim.masked_fill(~ok, float("-inf"))  # never chosen: the own window (candidate 0) is always ok
    k = sim.argmax(dim=-1)  # B, nh, nw, ws*ws
    offs_i, offs_j = neighbour_offsets()
    di = torch.tensor(offs_i, device=x.device)
    dj = torch.tensor(offs_j, device=x.device)
    ii = torch.arange(nh, device=x.device)[:, None, None] + di[k]  # B, nh, nw, ws*ws
    jj = torch.arange(nw, device=x.device)[None, :, None] + dj[k]
    region = reshape((ii * nw + jj).reshape(B, nh, nw, window, window).permute(0, 1, 3, 2, 4), [B, Hp, Wp])
    own = window_regions((Hp, Wp), window, x.device)
    return torch.where(valid[None], region, own[None])


def window_regions(padded_hw: Tuple[int, int], window: int, device: torch.device) -> torch.Tensor:
    """long ``(Hp, Wp)``: the index of the window each token of a padded map lies in (the uniform
    partition: what :func:`assign_regions` degenerates to without segmentation)."""
    nw = padded_hw[1] // window
    rows = torch.arange(padded_hw[0], device=device) // window
    cols = torch.arange(padded_hw[1], device=device) // window
    return rows[:, None] * nw + cols[None, :]


def region_membership(
    region: torch.Tensor, valid: torch.Tensor, cov_index: torch.Tensor, pad: int
) -> torch.Tensor:
    """Bool ``(B, nR, K*K)``: which tokens of each coverage area belong to that region (valid tokens
    assigned to it; positions outside the map or in the padding never do).

    Args:
        region: long ``(B, Hp, Wp)`` (:func:`assign_regions`).
        valid: bool ``(Hp, Wp)``.
        cov_index: ``(nR, K*K)`` (:func:`coverage_index` with the same ``pad``).
    """
    B = region.shape[0]
    nR = cov_index.shape[0]
    r = torch.where(valid[None], region, torch.full_like(region, -1))
    r = F.pad(r, (pad, pad, pad, pad), value=-1.0)
    r = r.reshape(B, r.shape[1] * r.shape[2])  # B, (Hp+2p)*(Wp+2p); explicit sizes: B may be 0
    covered = r[:, cov_index.reshape(-1)].reshape(B, nR, cov_index.shape[1])  # B, nR, K*K
    return covered == torch.arange(nR, device=region.device)[None, :, None]


def region_sizes(region: torch.Tensor, num_regions: int) -> torch.Tensor:
    """long ``(B, nR)``: how many tokens each region has, from the long ``(B, H*W)`` region of every real
    token (:func:`assign_regions`, cropped and flattened)."""
    counts = torch.zeros(region.shape[0], num_regions, dtype=torch.long, device=region.device)
    return counts.scatter_add_(1, region, torch.ones_like(region))


def member_layout(
    region: torch.Tensor,
    counts: torch.Tensor,
    hw: Tuple[int, int],
    grid: Tuple[int, int],
    window: int,
    pad: int,
    agr: bool,
    capacity: int,
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The intra-region attention laid out by membership: region ``r`` of image ``b`` is one sequence of
    ``N = agr + capacity`` slots, ``[its AGR token,] its members (row-major), padding``. A region's keys are
    exactly its members and its AGR token (every member lies in the region's coverage area, and nothing
    else of the area is attended), so the sequence holds all of them and nothing else, and every token is
    the query of exactly one slot: the write-back is a gather by each token's slot.

    Args:
        region: long ``(B, H*W)`` region of every real token, row-major.
        counts: long ``(B, nR)``, :func:`region_sizes`.
        hw, grid, window, pad: the map size, ``(nh, nw)``, ``ws`` and ``p``.
        agr: whether the block sequence ``[nA = nR AGR tokens, H*W map tokens]`` starts with AGR tokens
            (else ``nA = 0`` and the map alone).
        capacity: member slots per sequence, at least ``counts.max()`` (``K*K`` always is).

    Returns:
        ``rows`` long ``(B*nR*N,)``: the row of the ``(B*(nA + H*W))`` block rows each slot reads (padding
        slots read their region's AGR row, or the image's first map row, and must be masked as keys);
        ``slots`` long ``(B*(nA + H*W),)``: the slot of every block row (its query; the write-back gather);
        ``back``: ``rows`` with the padding slots set to ``B*(nA + H*W)`` (a zero row: no block row);
        ``bias_index`` long ``(B*nR, N*N)``: for every (query slot, key slot) pair, ``q * (Kc + 1) + k`` in
        the ``(Kc, Kc + 1)`` bias table of a coverage area, ``Kc = agr + K*K``: the codes are 0 for the AGR
        token, ``agr + y*K + x`` for a member at ``(y, x)`` of the area, ``Kc`` (the table's mask column)
        for a padding key and 0 for a padding query (whose output nobody reads).
    """
    B, HW = region.shape
    H, W = hw
    nh, nw = grid
    nR = nh * nw
    k = window + 2 * pad
    n0 = 1 if agr else 0
    nA = nR if agr else 0
    L = nA + HW
    N = n0 + capacity
    codes = n0 + k * k  # Kc
    dev = region.device
    pos = torch.arange(HW, device=dev)
    # each token's rank among its region's members: sort by (region, position), minus the region's start
    order = torch.argsort(region * HW + pos, dim=1)
    sorted_region = region.gather(1, order)
    rank = pos - (counts.cumsum(1) - counts).gather(1, sorted_region)
    slot = torch.empty_like(region).scatter_(1, order, sorted_region * N + n0 + rank)  # B, H*W
    # each token's position in its region's coverage area; region rows and columns by a lookup, not
    # region // nw and region % nw (ONNX's exporter cannot take a symbolic divisor)
    y = reshape(torch.arange(H, device=dev)[:, None].expand(H, W), [HW])
    x = reshape(torch.arange(W, device=dev)[None, :].expand(H, W), [HW])
    zero = torch.zeros(nh, nw, dtype=region.dtype, device=dev)
    row_of = (torch.arange(nh, device=dev)[:, None] + zero).reshape(nR)
    col_of = (torch.arange(nw, device=dev)[None, :] + zero).reshape(nR)
    local = (y - row_of[region] * window + pad) * k + (x - col_of[region] * window + pad)  # B, H*W

    first = torch.arange(nR, device=dev)[:, None] if agr else torch.zeros(nR, 1, dtype=torch.long, device=dev)
    rows = reshape(first.expand(nR, N), [1, nR * N]).expand(B, nR * N)
    rows = rows.scatter(1, slot, (pos + nA).expand(B, HW))  # B, nR*N (rows of the image's block sequence)
    code = torch.zeros(B, nR * N, dtype=torch.long, device=dev).scatter(1, slot, local + n0)
    valid = torch.arange(N, device=dev) < n0 + counts[:, :, None]  # B, nR, N
    valid = reshape(valid, [B, nR * N])
    if agr:
        slot = torch.cat(((torch.arange(nR, device=dev) * N).expand(B, nR), slot), dim=1)  # B, L
    image = torch.arange(B, device=dev)[:, None]
    rows = rows + image * L
    back = torch.where(valid, rows, torch.full_like(rows, B * L))
    slots = slot + image * (nR * N)
    query = code.reshape(B * nR, N, 1)
    key = torch.where(valid, code, torch.full_like(code, codes)).reshape(B * nR, 1, N)
    bias_index = reshape(query * (codes + 1) + key, [B * nR, N * N])
    return rows.reshape(B * nR * N), slots.reshape(B * L), back.reshape(B * nR * N), bias_index
