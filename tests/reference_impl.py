"""Test-only reference: the SALG and RSIR attention formulations as they were before issue 22 (commit
9e986e9, branch i21), copied verbatim with their layer helpers, so that tests/test_reformulation_equality.py
can check that the current (faster) formulation computes the same model within 1e-5 in outputs and
gradients. Nothing in the package imports this module.

:func:`reference_forward` swaps these in for the current ``forward`` of SALG's blocks and stages and of
RSIR's attention, for the duration of a ``with`` block (the parameters stay the model's own).
"""

import contextlib
from typing import Iterator, List, Tuple

import torch
import torch.nn.functional as F

from lgvit.layers import attention, capturing_graph
from lgvit.layers.mask import mask_bias
from lgvit.models import rsir as rsir_mod
from lgvit.models import salg as salg_mod

# ------------------------------------------------------------------- lgvit/layers/semantic_regions.py


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
    pad_h, pad_w = (-H) % window, (-W) % window
    if pad_h or pad_w:
        x = F.pad(x, (0, 0, 0, pad_w, 0, pad_h))
    return x


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
    s = (x * v[None, :, :, None]).reshape(B, nh, window, nw, window, C).sum(dim=(2, 4))  # B, nh, nw, C
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
    tok = F.normalize(x, dim=-1, eps=1e-6)
    tok = tok.reshape(B, nh, window, nw, window, C).permute(0, 1, 3, 2, 4, 5)
    tok = tok.reshape(B, nh, nw, window * window, C)  # window layout
    m = F.normalize(means, dim=-1, eps=1e-6).reshape(B, nh, nw, C)
    sim = torch.einsum("bijtc,bijkc->bijtk", tok, _neighbours(m))  # B, nh, nw, ws*ws, 9
    ones = torch.ones(1, nh, nw, 1, dtype=x.dtype, device=x.device)
    exists = _neighbours(ones)[0, :, :, :, 0] > 0  # nh, nw, 9
    ok = exists[:, :, None, :] & coverage_candidates(window, pad, x.device)[None, None]  # nh, nw, ws*ws, 9
    sim = sim.masked_fill(~ok, -4.0)  # below any cosine similarity
    k = sim.argmax(dim=-1)  # B, nh, nw, ws*ws
    offs_i, offs_j = neighbour_offsets()
    di = torch.tensor(offs_i, device=x.device)
    dj = torch.tensor(offs_j, device=x.device)
    ii = torch.arange(nh, device=x.device)[:, None, None] + di[k]  # B, nh, nw, ws*ws
    jj = torch.arange(nw, device=x.device)[None, :, None] + dj[k]
    region = (ii * nw + jj).reshape(B, nh, nw, window, window).permute(0, 1, 3, 2, 4).reshape(B, Hp, Wp)
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


def gather_coverage(x: torch.Tensor, cov_index: torch.Tensor, pad: int) -> torch.Tensor:
    """Every region's coverage area: ``(B, Hp, Wp, C)`` -> ``(B, nR, K*K, C)`` (zeros outside the map)."""
    B, C = x.shape[0], x.shape[3]
    flat = F.pad(x, (0, 0, pad, pad, pad, pad))
    flat = flat.reshape(B, flat.shape[1] * flat.shape[2], C)
    return flat[:, cov_index.reshape(-1)].reshape(B, cov_index.shape[0], cov_index.shape[1], C)


def own_region_source(
    region: torch.Tensor, hw: Tuple[int, int], grid: Tuple[int, int], window: int, pad: int
) -> torch.Tensor:
    """Write-back index: for each real token (row-major over the un-padded ``(H, W)``), where its own
    region's computation holds it, as a flat index into ``(nR * K*K)`` (region-major, then the
    row-major position inside the coverage area). Each token's output is taken from exactly this one
    place -- its own region's coverage area -- whatever other areas it also lies in.

    Args:
        region: long ``(B, Hp, Wp)``.
        hw: the un-padded ``(H, W)``.
        grid: ``(nh, nw)``.

    Returns:
        long ``(B, H*W)``.
    """
    H, W = hw
    nw = grid[1]
    k = window + 2 * pad
    r = region[:, :H, :W]
    y = torch.arange(H, device=region.device)[None, :, None]
    x = torch.arange(W, device=region.device)[None, None, :]
    local = (y - (r // nw) * window + pad) * k + (x - (r % nw) * window + pad)
    return (r * (k * k) + local).reshape(r.shape[0], H * W)


# ---------------------------------------------------------------------------- lgvit/layers/permute.py


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


def permute_tokens(x: torch.Tensor, perm: torch.Tensor, inverse: torch.Tensor) -> torch.Tensor:
    """``x`` ``(B, L, C)`` -> ``y`` ``(B, L, C)`` with ``y[b, l] = x[b, perm[b, l]]``.

    ``inverse`` must be :func:`inverse_permutation` of ``perm``: the gradient is gathered by it
    (``dx[b, l] = dy[b, inverse[b, l]]``), as cheap as the forward. Undo with
    ``permute_tokens(y, inverse, perm)``."""
    B, L, C = x.shape
    y = _PermuteTokens.apply(x.reshape(B * L, C), _flat_index(perm), _flat_index(inverse))
    return y.reshape(B, L, C)


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
    return windows.reshape(batch, num_windows * n, C)[:, :length]


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
    bias = mask_bias(is_real, dtype).reshape(1, num_windows, 1, 1, window_tokens)
    return bias.expand(batch, -1, -1, -1, -1).reshape(batch * num_windows, 1, 1, window_tokens)


# ------------------------------------------------------------------------ SALG (lgvit/models/salg.py)


def salg_position_bias(self) -> torch.Tensor:
    n = self.coverage * self.coverage
    rel = self.rel_pos[:, self.rel_pos_index.reshape(-1)].reshape(self.num_heads, n, n)
    if self.segment:
        rel = F.pad(rel, (1, 0, 1, 0))
    return rel.unsqueeze(0)


def salg_regions(self, x: torch.Tensor, hw: Tuple[int, int]) -> torch.Tensor:
    B, C = x.shape[0], x.shape[2]
    H, W = hw
    ws = self.window
    nh, nw = window_grid(hw, ws)
    if not self.segment:
        return window_regions((nh * ws, nw * ws), ws, x.device).unsqueeze(0).expand(B, -1, -1)
    valid = valid_mask(hw, ws, x.device)
    fmap = pad_to_windows(x[:, nh * nw :].reshape(B, H, W, C), ws)  # B, Hp, Wp, C
    return assign_regions(fmap, region_means(fmap, valid, ws), valid, ws, self.pad)


def salg_intra_region_attention(
    self, y: torch.Tensor, region: torch.Tensor, hw: Tuple[int, int], num_frames: int = 1
) -> torch.Tensor:
    B, L, C = y.shape
    H, W = hw
    ws, p, k = self.window, self.pad, self.coverage
    nh, nw = window_grid(hw, ws)
    nR = nh * nw
    nA = nR if self.segment else 0
    valid = valid_mask(hw, ws, y.device)  # Hp, Wp
    cov_index = coverage_index((nh, nw), ws, p, y.device)  # nR, K*K
    member = region_membership(region, valid, cov_index, p)  # B, nR, K*K
    attn = self.attn
    qkv = attn.qkv(y)  # B*T, nA + H*W, 3C
    qmap = pad_to_windows(qkv[:, nA:].reshape(B, H, W, 3 * C), ws)
    seq = gather_coverage(qmap, cov_index, p).reshape(B * nR, k * k, 3 * C)  # B*T*nR, K*K, 3C
    if self.segment:
        seq = torch.cat((qkv[:, :nA].reshape(B * nR, 1, 3 * C), seq), dim=1)  # B*T*nR, 1+K*K, 3C
        allowed = torch.cat((torch.ones_like(member[:, :, :1]), member), dim=2)
    else:
        allowed = member
    N = seq.shape[1]
    bias = salg_position_bias(self).to(y.dtype) + mask_bias(allowed, y.dtype).reshape(B * nR, 1, 1, N)
    q, kk, v = seq.reshape(B * nR, N, 3, attn.num_heads, attn.head_dim).permute(2, 0, 3, 1, 4).unbind(0)
    out = attention(q, kk, v, bias, attn.attn_drop if self.training else 0.0)  # B*T*nR, heads, N, hd
    out = out.transpose(1, 2).reshape(B * nR, N, C)
    n0 = nA // nR  # 1 with the AGR token, else 0
    agr_out = out[:, :n0].reshape(B, nA, C)
    src = own_region_source(region, hw, (nh, nw), ws, p)  # B, H*W
    cov_out = out[:, n0:].reshape(B, nR * k * k, C)
    tok_out = torch.gather(cov_out, 1, src.unsqueeze(-1).expand(-1, -1, C))  # B, H*W, C
    return attn.proj_drop(attn.proj(torch.cat((agr_out, tok_out), dim=1)))


def salg_block_forward(
    self, x: torch.Tensor, num_frames: int, hw: Tuple[int, int], bias: torch.Tensor | None = None
) -> torch.Tensor:
    region = salg_regions(self, x, hw)
    nh, nw = window_grid(hw, self.window)
    nA = nh * nw if self.segment else 0
    x = x + self.drop_path(salg_intra_region_attention(self, self.norm1(x), region, hw, num_frames))
    x = x + self.drop_path(self.mlp(self.norm2(x)))
    if not self.propagate:
        return x
    agr, tokens = x[:, :nA], x[:, nA:]
    if self.use_msa:
        agr = agr + self.drop_path(self.prop_attn(self.prop_norm1(agr), None, num_frames))
        agr = agr + self.drop_path(self.prop_mlp(self.prop_norm2(agr)))
    else:
        agr = agr.mean(dim=1, keepdim=True).expand(-1, nA, -1)
    return torch.cat((agr, tokens), dim=1)


def salg_stage_forward(self, x: torch.Tensor, num_frames: int = 1) -> torch.Tensor:
    x = self.downsample(x)
    B, C, H, W = x.shape
    tokens = x.flatten(2).transpose(1, 2)  # B*T, H*W, C
    nA = 0
    if self.agr_token is not None:
        fmap = pad_to_windows(tokens.reshape(B, H, W, C), self.window)
        means = region_means(fmap, valid_mask((H, W), self.window, x.device), self.window)  # B, nR, C
        nA = means.shape[1]
        tokens = torch.cat((self.agr_token.to(x.dtype) + means, tokens), dim=1)  # B*T, nA + H*W, C
    tokens = self.forward_blocks(tokens, num_frames, (H, W))
    return tokens[:, nA:].transpose(1, 2).reshape(B, C, H, W)


# ------------------------------------------------------------------------ RSIR (lgvit/models/rsir.py)


def rsir_group_qkv(self, x: torch.Tensor, group: int) -> torch.Tensor:
    C = self.dim
    w = self.qkv.weight.reshape(3, 2, C // 2, C)[:, group].reshape(3 * C // 2, C)
    b: torch.Tensor | None = None
    if self.qkv.bias is not None:
        b = self.qkv.bias.reshape(3, 2, C // 2)[:, group].reshape(3 * C // 2)
    return F.linear(x, w, b)


def rsir_rs_permutation(self, batch: int, length: int, device: torch.device) -> torch.Tensor:
    if self.training or self.random_eval:
        return random_permutation(batch, length, device)
    return fixed_permutation(length, self.block_seed, device).expand(batch, -1)


def rsir_ir_permutation(self, source: torch.Tensor) -> torch.Tensor:
    return importance_permutation(rsir_mod.importance_map(source, self.importance))


def rsir_window_attention(self, qkv: torch.Tensor, window_tokens: int) -> torch.Tensor:
    B, L, _ = qkv.shape
    windows, pad = token_window_partition(qkv, window_tokens)  # B*nW, n, 3C/2
    Bw, n, _ = windows.shape
    q, k, v = windows.reshape(Bw, n, 3, self.group_heads, self.head_dim).permute(2, 0, 3, 1, 4).unbind(0)
    bias: torch.Tensor | None = None
    if capturing_graph() or pad > 0:
        bias = token_window_bias(B, L, window_tokens, qkv.dtype, qkv.device)  # B*nW, 1, 1, n
    y = attention(q, k, v, bias, self.attn_drop if self.training else 0.0)  # B*nW, heads/2, n, hd
    y = y.transpose(1, 2).reshape(Bw, n, self.group_heads * self.head_dim)
    return token_window_unpartition(y, B, L)  # B, L, C/2


def rsir_attention_forward(
    self,
    x: torch.Tensor,
    bias: torch.Tensor | None = None,
    num_frames: int = 1,
    source: torch.Tensor | None = None,
) -> torch.Tensor:
    if bias is not None:
        raise ValueError("RSIR-Win takes no attention bias: positions are permuted inside")
    if source is None:
        source = x
    B, L, C = x.shape
    n = min(self.window_tokens, L)
    perm = rsir_rs_permutation(self, B, L, x.device)
    inv = inverse_permutation(perm)
    rs = rsir_window_attention(self, rsir_group_qkv(self, permute_tokens(x, perm, inv), 0), n)
    rs = permute_tokens(rs, inv, perm)
    perm = rsir_ir_permutation(self, source)
    inv = inverse_permutation(perm)
    ir = rsir_window_attention(self, rsir_group_qkv(self, permute_tokens(x, perm, inv), 1), n)
    ir = permute_tokens(ir, inv, perm)
    return self.proj_drop(self.proj(torch.cat([rs, ir], dim=-1)))


# ------------------------------------------------------------------------------------------- swapping


@contextlib.contextmanager
def reference_forward() -> Iterator[None]:
    """Within the block, SALG blocks/stages and RSIR attention run the pre-issue-22 formulation."""
    swaps = [
        (salg_mod.LocalGlobalBlock, "forward", salg_block_forward),
        (salg_mod.SALGStage, "forward", salg_stage_forward),
        (rsir_mod.RSIRAttention, "forward", rsir_attention_forward),
    ]
    saved = [(cls, name, cls.__dict__[name]) for cls, name, _ in swaps]
    try:
        for cls, name, fn in swaps:
            setattr(cls, name, fn)
        yield
    finally:
        for cls, name, fn in saved:
            setattr(cls, name, fn)
