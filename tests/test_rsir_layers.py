"""RSIR permutation helpers (lgvit.layers.permute) and RSIR-Win attention against independent references:
un-permuting restores the token order exactly for both head groups, a window holding every token equals
global attention, windows with padding equal per-window attention without it."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from lgvit.layers import (
    fixed_permutation,
    importance_permutation,
    inverse_permutation,
    permute_tokens,
    random_permutation,
    token_window_bias,
    token_window_partition,
    token_window_unpartition,
)
from lgvit.models.rsir import RSIRAttention


def _is_permutation(p: torch.Tensor) -> bool:
    return torch.equal(p.sort(dim=-1)[0], torch.arange(p.shape[-1]).expand_as(p))


def test_inverse_and_permute_tokens_round_trip():
    x = torch.randn(3, 50, 5)
    perm = random_permutation(3, 50, x.device)
    assert _is_permutation(perm)
    inv = inverse_permutation(perm)
    torch.testing.assert_close(inv, perm.argsort(dim=1), rtol=0, atol=0)
    y = permute_tokens(x, perm, inv)
    torch.testing.assert_close(y, torch.stack([x[b, perm[b]] for b in range(3)]), rtol=0, atol=0)
    torch.testing.assert_close(permute_tokens(y, inv, perm), x, rtol=0, atol=0)


def test_permute_tokens_backward_is_the_inverse_gather():
    x = torch.randn(2, 17, 4, requires_grad=True)
    perm = random_permutation(2, 17, x.device)
    inv = inverse_permutation(perm)
    g = torch.randn(2, 17, 4)
    (gx,) = torch.autograd.grad(permute_tokens(x, perm, inv), x, g)
    x_ref = x.detach().clone().requires_grad_(True)
    ref = torch.gather(x_ref, 1, perm.unsqueeze(-1).expand(-1, -1, 4))  # autograd's scatter-add backward
    (gx_ref,) = torch.autograd.grad(ref, x_ref, g)
    torch.testing.assert_close(gx, gx_ref, rtol=0, atol=0)
    torch.testing.assert_close(gx, torch.stack([g[b, inv[b]] for b in range(2)]), rtol=0, atol=0)


def test_random_permutation_follows_manual_seed():
    torch.manual_seed(3)
    a = random_permutation(2, 100, torch.device("cpu"))
    torch.manual_seed(3)
    b = random_permutation(2, 100, torch.device("cpu"))
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not torch.equal(a[0], a[1])


def test_fixed_permutation_is_deterministic_and_seeded():
    for length in (1, 2, 49, 3136):
        p = fixed_permutation(length, 5, torch.device("cpu"))
        assert p.shape == (length,) and _is_permutation(p)
        torch.manual_seed(123)  # independent of the RNG state
        torch.testing.assert_close(p, fixed_permutation(length, 5, torch.device("cpu")), rtol=0, atol=0)
    a, b = fixed_permutation(196, 0, torch.device("cpu")), fixed_permutation(196, 1, torch.device("cpu"))
    assert not torch.equal(a, b)
    assert not torch.equal(a, torch.arange(196))
    # pinned values: the same in every process and on every device (integer hash)
    assert fixed_permutation(8, 0, torch.device("cpu")).tolist() == [0, 7, 5, 1, 2, 6, 4, 3]
    assert fixed_permutation(8, 3, torch.device("cpu")).tolist() == [1, 0, 7, 5, 4, 6, 3, 2]


def test_importance_permutation_sorts_descending_and_breaks_ties_by_position():
    score = torch.tensor([[0.1, 0.5, 0.5, -1.0, 0.5]])
    assert importance_permutation(score).tolist() == [[1, 2, 4, 0, 3]]


def test_token_windows_round_trip_and_mask():
    x = torch.randn(2, 10, 3)
    w, pad = token_window_partition(x, 4)
    assert w.shape == (6, 4, 3) and pad == 2
    torch.testing.assert_close(w[2, 2:], torch.zeros(2, 3), rtol=0, atol=0)
    torch.testing.assert_close(token_window_unpartition(w, 2, 10), x, rtol=0, atol=0)
    bias = token_window_bias(2, 10, 4, torch.float32, torch.device("cpu"))
    assert bias.shape == (6, 1, 1, 4)
    expected = torch.zeros(3, 4)
    expected[2, 2:] = -1.0e9
    torch.testing.assert_close(bias.reshape(2, 3, 4), expected.expand(2, 3, 4), rtol=0, atol=0)
    w, pad = token_window_partition(x, 5)
    assert w.shape == (4, 5, 3) and pad == 0


# ---------------------------------------------------------------------------- RSIR-Win vs references


def _group_reference(attn, x, qkv, perm, n):
    """Independent per-image reference of one head group: gather, chunks of n (the last one shorter, no
    padding), softmax attention per chunk, scatter back."""
    B, L, C = x.shape
    h, d = attn.group_heads, attn.head_dim
    out = torch.zeros(B, L, C // 2)
    for b in range(B):
        t = qkv(x[b, perm[b]]).reshape(L, 3, h, d)
        for s in range(0, L, n):
            q, k, v = t[s : s + n].unbind(1)  # m, h, d
            a = torch.einsum("mhd,khd->hmk", q, k) * d**-0.5
            y = torch.einsum("hmk,khd->mhd", a.softmax(-1), v).reshape(-1, C // 2)
            out[b, perm[b, s : s + n]] = y
    return out


@pytest.mark.parametrize("train", [False, True])
@pytest.mark.parametrize("length,window", [(10, 2), (49, 3), (12, 7)])
def test_rsir_attention_equals_per_window_reference(train, length, window):
    """Both head groups: permute, window (with padding at the end), attend, restore, concat, W^O."""
    torch.manual_seed(1)
    attn = RSIRAttention(16, 4, window=window, importance="meanmax", block_seed=3).train(train)
    x, src = torch.randn(2, length, 16), torch.randn(2, length, 16)
    n = min(window * window, length)
    with torch.no_grad():
        torch.manual_seed(7)
        out = attn(x, source=src)
        torch.manual_seed(7)  # the same RS permutation
        rs_perm = attn.rs_permutation(2, length, x.device)
        ir_perm = attn.ir_permutation(src)
        rs = _group_reference(attn, x, lambda t: attn.group_qkv(t, 0), rs_perm, n)
        ir = _group_reference(attn, x, lambda t: attn.group_qkv(t, 1), ir_perm, n)
        ref = attn.proj(torch.cat([rs, ir], -1))
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)
    # the IR order really is by importance (mean + max of the source's channels)
    score = src.mean(-1) + src.amax(-1)
    assert torch.all(score.gather(1, ir_perm).diff(dim=1) <= 0)


@pytest.mark.parametrize("train", [False, True])
def test_unpermuting_restores_token_order_exactly(train):
    """window=1: every token attends only to itself, so each group's output is its own value vector in
    the original order exactly when un-permuting is right (for a random and an importance order)."""
    attn = RSIRAttention(16, 4, window=1).train(train)
    x = torch.randn(2, 37, 16)
    with torch.no_grad():
        out = attn(x, source=torch.randn(2, 37, 16))
        v = attn.qkv(x)[..., 32:]  # the standard (q | k | v) layout: heads 0-1 RS, 2-3 IR
        v_rs, v_ir = v[..., :8], v[..., 8:]
        ref = attn.proj(torch.cat([v_rs, v_ir], -1))
    torch.testing.assert_close(out, ref, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("train", [False, True])
def test_whole_set_window_equals_global_attention(train):
    """A window covering every token: both groups are global attention over their heads."""
    attn = RSIRAttention(32, 4, window=8).train(train)  # 64 >= 50 tokens
    x = torch.randn(2, 50, 32)
    with torch.no_grad():
        out = attn(x, source=torch.randn(2, 50, 32))
        # plain multi-head attention over all tokens with the same weights (heads in the standard layout)
        q, k, v = attn.qkv(x).reshape(2, 50, 3, 4, 8).permute(2, 0, 3, 1, 4).unbind(0)
        a = (q @ k.transpose(-1, -2) * 8**-0.5).softmax(-1)
        ref = attn.proj((a @ v).transpose(1, 2).reshape(2, 50, 32))
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-5)


def test_padding_keys_get_no_attention_and_no_gradient():
    """Padding tokens are masked keys: a real token's output does not depend on them, and in the
    gradient no path reaches them (checked through the window bias: exp(-1e9) == 0)."""
    bias = token_window_bias(1, 5, 4, torch.float32, torch.device("cpu"))
    q = torch.randn(2, 1, 4, 8)
    k, v = torch.randn(2, 1, 4, 8), torch.randn(2, 1, 4, 8)
    a = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
    v2 = v.clone()
    v2[1, :, 1:] = 1e3  # the padding keys/values of the last window
    k2 = k.clone()
    k2[1, :, 1:] = 1e3
    torch.testing.assert_close(F.scaled_dot_product_attention(q, k2, v2, attn_mask=bias), a)


def test_is_an_lgvit_attention_with_the_standard_layout():
    """The video wrapper reads width/heads from an lgvit Attention and copies its state into temporal
    attention: RSIR-Win is one, with exactly Attention's parameters."""
    from lgvit.layers import Attention

    attn = RSIRAttention(32, 4)
    assert isinstance(attn, Attention) and attn.num_heads == 4 and attn.qkv.in_features == 32
    Attention(32, 4).load_state_dict(attn.state_dict())
    with pytest.raises(ValueError, match="no attention bias"):
        attn(torch.randn(1, 5, 32), torch.zeros(1, 4, 5, 5))


def test_bad_heads():
    with pytest.raises(ValueError, match="even"):
        RSIRAttention(12, 3)
    with pytest.raises(ValueError, match="importance"):
        RSIRAttention(16, 4, importance="cbam_conv")


@pytest.mark.parametrize("length, window", [(12, 4), (10, 4), (3, 4)])
def test_windowed_rows_of_both_groups_round_trip_with_gather_backwards(length, window):
    """window_permuted_rows puts each group's rows into windows in the group's order (padding repeats the
    last token), unwindow_permuted_rows restores the token order exactly; their gradients equal autograd's
    scatter-add of the same gathers with the padding's gradient dropped (it is masked and cropped)."""
    from lgvit.layers import unwindow_permuted_rows, window_permutation_rows, window_permuted_rows

    B, G, D = 2, 2, 3
    n = min(window, length)
    padded = -(-length // n) * n
    perm = torch.stack([random_permutation(B, length, torch.device("cpu")) for _ in range(G)], dim=1)
    index, inverse, back = window_permutation_rows(perm, n)
    x = torch.randn(B * length * G, D, requires_grad=True)
    w = window_permuted_rows(x, index, inverse)
    table = x.detach().reshape(B, length, G, D)
    for b in range(B):
        for g in range(G):
            order = perm[b, g].tolist() + [perm[b, g, -1].item()] * (padded - length)
            got = w.detach().reshape(B, G, padded, D)[b, g]
            torch.testing.assert_close(got, table[b, order, g], rtol=0, atol=0)
    torch.testing.assert_close(unwindow_permuted_rows(w, inverse, back), x, rtol=0, atol=0)
    # backwards: with zero gradient on the padding both equal autograd's own
    real = (torch.arange(padded) < length).repeat(B * G)[:, None].float()
    gw = torch.randn_like(w) * real
    (gx,) = torch.autograd.grad(window_permuted_rows(x, index, inverse), x, gw)
    (gx_ref,) = torch.autograd.grad(x.index_select(0, index), x, gw)
    torch.testing.assert_close(gx, gx_ref, rtol=0, atol=0)
    y = torch.randn(B * G * padded, D, requires_grad=True)
    gy_out = torch.randn(B * length * G, D)
    (gy,) = torch.autograd.grad(unwindow_permuted_rows(y, inverse, back), y, gy_out)
    (gy_ref,) = torch.autograd.grad(y.index_select(0, inverse), y, gy_out)
    torch.testing.assert_close(gy, gy_ref, rtol=0, atol=0)
