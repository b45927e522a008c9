"""SALG's semantic-aware region segmentation (Eq. 1) and masked intra-region attention (Eq. 2), against
brute-force references written with explicit loops over tokens and regions."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from lgvit.layers import (
    assign_regions,
    coverage_index,
    pad_to_windows,
    region_means,
    region_membership,
    relative_position_index,
    valid_mask,
    window_grid,
)
from lgvit.models.salg import LocalGlobalBlock

WS = 7


def _segment(x: torch.Tensor, pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(B, H, W, C)`` map -> (region ``(B, Hp, Wp)``, valid ``(Hp, Wp)``) through the library."""
    H, W = x.shape[1:3]
    valid = valid_mask((H, W), WS, x.device)
    fmap = pad_to_windows(x, WS)
    return assign_regions(fmap, region_means(fmap, valid, WS), valid, WS, pad), valid


def _covers(r: int, y: int, x: int, nw: int, pad: int) -> bool:
    i, j = divmod(r, nw)
    return i * WS - pad <= y < i * WS + WS + pad and j * WS - pad <= x < j * WS + WS + pad


SIZES = [(7, 7), (17, 23), (14, 30), (5, 9), (22, 15)]


@pytest.mark.parametrize("hw", SIZES)
@pytest.mark.parametrize("pad", [0, 1, 2])
def test_assignment_equals_brute_force_eq1(hw, pad):
    """Loop over every token and every region: among the regions whose coverage contains the token,
    the one with the largest cosine similarity between its window mean and the token."""
    H, W = hw
    x = torch.randn(2, H, W, 8, dtype=torch.float64)
    region, _ = _segment(x, pad)
    nh, nw = window_grid(hw, WS)
    for b in range(2):
        means = []
        for r in range(nh * nw):  # independent window means over the real tokens only
            i, j = divmod(r, nw)
            means.append(x[b, i * WS : (i + 1) * WS, j * WS : (j + 1) * WS].reshape(-1, 8).mean(0))
        for y in range(H):
            for xx in range(W):
                cands = [r for r in range(nh * nw) if _covers(r, y, xx, nw, pad)]
                sims = [F.cosine_similarity(x[b, y, xx], means[r], dim=0).item() for r in cands]
                expected = cands[max(range(len(cands)), key=lambda n: sims[n])]
                assert region[b, y, xx].item() == expected, (b, y, xx)


@pytest.mark.parametrize("hw", SIZES)
@pytest.mark.parametrize("pad", [1, 2])
def test_every_token_is_a_member_of_exactly_one_region_whose_coverage_contains_it(hw, pad):
    H, W = hw
    x = torch.randn(3, H, W, 16)
    region, valid = _segment(x, pad)
    nh, nw = window_grid(hw, WS)
    assert region.shape == (3, nh * WS, nw * WS) and region.dtype == torch.long
    assert int(region.min()) >= 0 and int(region.max()) < nh * nw
    # coverage containment, checked by coordinates
    ys, xs = torch.meshgrid(torch.arange(H), torch.arange(W), indexing="ij")
    r = region[:, :H, :W]
    i, j = r // nw, r % nw
    assert ((ys >= i * WS - pad) & (ys < i * WS + WS + pad)).all()
    assert ((xs >= j * WS - pad) & (xs < j * WS + WS + pad)).all()
    # membership over all coverage areas: each real token exactly once, padding and outside never
    cov = coverage_index((nh, nw), WS, pad, x.device)
    member = region_membership(region, valid, cov, pad)
    counts = torch.zeros(3, (nh * WS + 2 * pad) * (nw * WS + 2 * pad))
    counts.index_add_(1, cov.reshape(-1), member.reshape(3, -1).float())
    counts = counts.reshape(3, nh * WS + 2 * pad, nw * WS + 2 * pad)[:, pad:-pad, pad:-pad]
    expected = valid.float().expand(3, -1, -1)
    torch.testing.assert_close(counts, expected, rtol=0, atol=0)


@pytest.mark.parametrize("pad", [1, 2])
def test_regions_follow_content_two_flat_colours(pad):
    """Two flat colours, the edge at column 10 runs through window 1 (columns 7..13): window 0 is pure
    colour A, window 2 pure B, window 1 mixed. A-tokens of window 1 inside window 0's coverage go to
    region 0 (not to the mixed region 1), B-tokens inside window 2's coverage go to region 2; tokens no
    pure region covers stay in the mixed region; pure windows keep all their tokens."""
    H, W = 7, 21
    a, b = torch.tensor([1.0, 0.2, 0.0]), torch.tensor([0.0, 0.3, 1.0])
    x = torch.empty(1, H, W, 3)
    x[:, :, :10] = a
    x[:, :, 10:] = b
    region, _ = _segment(x, pad)
    region = region[0]
    for col in range(W):
        if col < 7 + pad:  # window 0 and the A-columns of window 1 inside its coverage
            expected = 0
        elif col < 10:  # A-tokens only the mixed region covers
            expected = 1
        elif col < 14 - pad:  # B-tokens only the mixed region covers
            expected = 1
        else:  # B-tokens of window 1 inside window 2's coverage, and window 2
            expected = 2
        assert region[:, col].tolist() == [expected] * H, f"column {col}"


def test_padded_tokens_belong_to_their_own_window_and_are_never_members():
    x = torch.randn(1, 10, 12, 8)
    region, valid = _segment(x, 2)
    own = (torch.arange(14)[:, None] // WS) * 2 + torch.arange(14)[None, :] // WS
    assert (region[0][~valid] == own[~valid]).all()
    cov = coverage_index((2, 2), WS, 2, x.device)
    member = region_membership(region, valid, cov, 2)
    padded_positions = F.pad(~valid, (2, 2, 2, 2), value=True).reshape(-1)[cov]  # nR, K*K
    assert not (member[0] & padded_positions).any()


# --------------------------------------------------------------------------- masked attention


def _block(pad: int = 1, dim: int = 32, heads: int = 2, segment: bool = True) -> LocalGlobalBlock:
    torch.manual_seed(0)
    blk = LocalGlobalBlock(dim, heads, pad=pad, segment=segment).eval()
    with torch.no_grad():
        blk.rel_pos.normal_(std=0.5)  # make the position bias matter
    return blk


def _tokens(B: int, hw: tuple[int, int], dim: int, segment: bool = True) -> torch.Tensor:
    nh, nw = window_grid(hw, WS)
    nA = nh * nw if segment else 0
    return torch.randn(B, nA + hw[0] * hw[1], dim)


@pytest.mark.parametrize("hw,pad", [((17, 23), 1), ((14, 14), 2), ((9, 30), 2)])
def test_intra_region_attention_equals_per_region_reference(hw, pad):
    """Loop over regions: plain attention over [AGR token, the region's member tokens] with the
    relative position bias looked up from the members' coordinates. Every member's output and the AGR
    output must equal the vectorised masked computation (each token's value from its own region)."""
    blk = _block(pad)
    x = _tokens(2, hw, 32)
    H, W = hw
    nh, nw = window_grid(hw, WS)
    nR = nh * nw
    region = blk.regions(x, hw)
    y = blk.norm1(x)
    with torch.no_grad():
        out = blk.intra_region_attention(y, region, hw)
    K = WS + 2 * pad
    index = relative_position_index(K)  # (K*K)^2 into the table, coverage-local coordinates
    attn = blk.attn
    hd = attn.head_dim
    for b in range(2):
        for r in range(nR):
            i, j = divmod(r, nw)
            pos = [(yy, xx) for yy in range(H) for xx in range(W) if region[b, yy, xx].item() == r]
            seq = torch.cat([y[b, r : r + 1]] + [y[b, nR + yy * W + xx][None] for yy, xx in pos])
            local = [(yy - i * WS + pad) * K + (xx - j * WS + pad) for yy, xx in pos]
            n = len(pos) + 1
            bias = torch.zeros(2, n, n)
            rel = blk.rel_pos[:, index[local][:, local]]  # heads, m, m
            bias[:, 1:, 1:] = rel
            qkv = attn.qkv(seq).reshape(n, 3, 2, hd).permute(1, 2, 0, 3)
            q, k, v = qkv[0], qkv[1], qkv[2]
            a = (q @ k.transpose(-1, -2) / math.sqrt(hd) + bias).softmax(-1)
            ref = attn.proj((a @ v).transpose(0, 1).reshape(n, 32)).detach()
            torch.testing.assert_close(out[b, r], ref[0], rtol=1e-4, atol=1e-5)
            for m, (yy, xx) in enumerate(pos):
                torch.testing.assert_close(out[b, nR + yy * W + xx], ref[m + 1], rtol=1e-4, atol=1e-5)


def test_changing_non_members_does_not_change_a_regions_output():
    """With the segmentation fixed, changing every token that is not a member of region r (inside its
    coverage area and elsewhere, other AGR tokens included) leaves r's members' and AGR token's
    intra-region outputs unchanged -- and does change other tokens' outputs (the check can fail)."""
    hw, pad = (21, 21), 2
    blk = _block(pad)
    x = _tokens(1, hw, 32)
    nR = 9
    region = blk.regions(x, hw)
    y = blk.norm1(x).detach()
    r = 4  # the centre region: its coverage overlaps all 8 neighbours
    members = torch.cat((torch.arange(nR) == r, (region[0, :21, :21] == r).reshape(-1)))
    assert 10 < int(members.sum()) < 21 * 21
    y2 = y.clone()
    y2[0, ~members] += 3.0 * torch.randn(int((~members).sum()), 32)
    with torch.no_grad():
        out = blk.intra_region_attention(y, region, hw)
        out2 = blk.intra_region_attention(y2, region, hw)
    torch.testing.assert_close(out2[0, members], out[0, members], rtol=0, atol=1e-5)
    assert (out2[0, ~members] - out[0, ~members]).abs().amax() > 1e-2


def test_padding_is_masked_out_of_the_normal_window_block():
    """Normal (last-stage) block: the padded tokens never reach real ones -- a 10x12 map equals the
    same map's 14x14 version with those positions masked, i.e. the output does not depend on the
    padding and matches running the crop."""
    blk = _block(0, segment=False)
    x = _tokens(1, (10, 12), 32, segment=False)
    with torch.no_grad():
        out = blk(x, 1, (10, 12))
        # the first window is complete (7x7) and has no padding: compare with that window alone
        win = x.reshape(1, 10, 12, 32)[:, :7, :7].reshape(1, 49, 32)
        ref = blk(win, 1, (7, 7))
    torch.testing.assert_close(
        out.reshape(1, 10, 12, 32)[:, :7, :7].reshape(1, 49, 32), ref, rtol=1e-5, atol=1e-5
    )


# --------------------------------------------------------------------------- member layout (issue 22)


@pytest.mark.parametrize("pad", [1, 2])
@pytest.mark.parametrize("hw", [(14, 21), (10, 12), (23, 9)])
@pytest.mark.parametrize("agr", [True, False])
@pytest.mark.parametrize("spare", [0, 3])
def test_member_layout_holds_each_region_and_addresses_its_coverage_positions(pad, hw, agr, spare):
    """The sequences of the intra-region attention (lgvit.layers.member_layout), against the padded-map
    membership (region_membership over coverage_index): region r's sequence holds [its AGR token,] exactly
    its members, each token is the query of one slot of its own region's sequence (the write-back), padding
    slots are masked as keys, and every (query, key) bias index addresses the two tokens' positions in
    the region's coverage area."""
    from lgvit.layers import member_layout, region_sizes

    H, W = hw
    B = 2
    x = torch.randn(B, H, W, 8)
    region, valid = _segment(x, pad)
    nh, nw = window_grid(hw, WS)
    nR, k = nh * nw, WS + 2 * pad
    n0, nA = int(agr), nh * nw * int(agr)
    L = nA + H * W
    flat_region = region[:, :H, :W].reshape(B, H * W)
    counts = region_sizes(flat_region, nR)
    capacity = int(counts.max()) + spare
    N = n0 + capacity
    rows, slots, back, bias_index = member_layout(flat_region, counts, hw, (nh, nw), WS, pad, agr, capacity)
    assert rows.shape == back.shape == (B * nR * N,) and slots.shape == (B * L,)
    assert bias_index.shape == (B * nR, N * N)
    # every block row is read by its own slot; map tokens sit in their region's sequence
    assert torch.equal(rows[slots], torch.arange(B * L))
    seq = (slots // N).reshape(B, L) - torch.arange(B)[:, None] * nR
    assert torch.equal(seq[:, nA:], flat_region)
    if agr:
        assert torch.equal(slots.reshape(B, L)[:, :nR] % N, torch.zeros(B, nR, dtype=torch.long))
        assert torch.equal(seq[:, :nR], torch.arange(nR).expand(B, nR))
    # the members of each sequence are exactly the region's members of the padded-map formulation
    member = region_membership(region, valid, coverage_index((nh, nw), WS, pad, x.device), pad)  # B, nR, K*K
    padded_rows = F.pad(
        torch.arange(H * W).reshape(H, W), (pad, nw * WS - W + pad, pad, nh * WS - H + pad), value=-1
    ).reshape(-1)[coverage_index((nh, nw), WS, pad, x.device)]  # nR, K*K: map row of each area position
    used = back.reshape(B, nR, N) < B * L
    codes = n0 + k * k
    q_code = bias_index.reshape(B, nR, N, N) // (codes + 1)
    k_code = bias_index.reshape(B, nR, N, N) % (codes + 1)
    for b in range(B):
        for r in range(nR):
            slots_r = rows.reshape(B, nR, N)[b, r][used[b, r]] - b * L
            expected = padded_rows[r][member[b, r]] + nA
            got = slots_r[n0:]
            assert torch.equal(got.sort().values, expected.sort().values), (b, r)
            if agr:
                assert slots_r[0] == r
            n_used = int(used[b, r].sum())
            assert used[b, r, :n_used].all() and not used[b, r, n_used:].any()  # padding last
            # keys: padding slots take the mask column, used ones their area position
            assert (k_code[b, r][:, n_used:] == codes).all()
            pos = q_code[b, r, :n_used, 0]  # query codes of the used slots (the same in every key column)
            assert (
                torch.equal(k_code[b, r, 0, :n_used], pos) and (q_code[b, r, :n_used] == pos[:, None]).all()
            )
            if agr:
                assert pos[0] == 0
            assert torch.equal(padded_rows[r][pos[n0:] - n0] + nA, got)  # each member's own position


def _operator_inputs(hw: tuple[int, int], pad: int, segment: bool):
    """The arguments of ``torch.ops.lgvit.member_attention`` as a SALG block makes them (real regions)."""
    blk = _block(pad, segment=segment)
    x = _tokens(2, hw, 32, segment)
    H, W = hw
    region = blk.regions(x, hw)[:, :H, :W].reshape(2, H * W)
    qkv = torch.randn(x.shape[0] * x.shape[1], 3 * 32, dtype=torch.float64, requires_grad=True)
    table = blk.bias_table(torch.float64).detach().requires_grad_()
    return qkv, region, table, H, W, WS, pad, segment, 2


@pytest.mark.parametrize("hw,pad,segment", [((17, 23), 1, True), ((14, 14), 2, True), ((9, 30), 0, False)])
def test_member_attention_operator_equals_the_eager_computation_and_its_gradient(hw, pad, segment):
    """The operator ``torch.compile`` takes (its forward and its written-out backward, each at the data's
    sequence length) against the eager path's autograd, float64."""
    from lgvit.layers import member_attention

    qkv, region, table, H, W, *rest = _operator_inputs(hw, pad, segment)
    out = torch.ops.lgvit.member_attention(qkv, region, table, H, W, *rest)
    ref = member_attention(qkv, region, table, (H, W), *rest)
    torch.testing.assert_close(out, ref, rtol=1e-12, atol=1e-12)
    grad = torch.randn_like(out)
    got = torch.autograd.grad(out, (qkv, table), grad)
    want = torch.autograd.grad(ref, (qkv, table), grad)
    for g, w in zip(got, want):
        torch.testing.assert_close(g, w, rtol=1e-10, atol=1e-10)


def test_member_attention_operators_pass_torch_library_opcheck():
    """torch's own check of a custom operator: schema, fake (meta) implementation, autograd registration
    and AOT dispatch, for the forward and the backward operator."""
    args = _operator_inputs((17, 23), 1, True)
    torch.library.opcheck(torch.ops.lgvit.member_attention.default, args)
    qkv, region, table, *rest = args
    grad = torch.randn(qkv.shape[0], qkv.shape[1] // 3, dtype=qkv.dtype)
    plain = (qkv.detach(), region, table.detach())
    torch.library.opcheck(torch.ops.lgvit.member_attention_backward.default, (grad, *plain, *rest))


@pytest.mark.parametrize("scores_per_chunk", [1, 20_000, 1 << 19])
def test_member_attention_without_gradient_in_chunks_equals_the_recorded_computation(scores_per_chunk):
    """Without a gradient to record (inference) the sequences are gathered, attended and written back a
    chunk of regions at a time; with one, in one gather for all. Chunks of one region, of a few regions
    (the last one shorter) and of every region give the recorded path's numbers (float32, CPU)."""
    from lgvit.layers import member_attention
    from lgvit.layers.member_attention import _layout, _member_attention_in_chunks

    qkv, region, table, H, W, window, pad, agr, heads = _operator_inputs((17, 23), 2, True)
    qkv, table = qkv.float().detach().requires_grad_(), table.float().detach().requires_grad_()
    want = member_attention(qkv, region, table, (H, W), window, pad, agr, heads)
    assert want.requires_grad  # the recorded (one-gather) path
    rows, _, back, bias_index, N = _layout(region, (H, W), window, pad, agr, False)
    with torch.no_grad():
        got = _member_attention_in_chunks(qkv, rows, back, bias_index, table, N, heads, scores_per_chunk)
        assert torch.equal(member_attention(qkv, region, table, (H, W), window, pad, agr, heads), got)
    torch.testing.assert_close(got, want.detach(), rtol=1e-6, atol=1e-6)
