"""``lgvit.layers.attention``: the one attention kernel call of every family. In float32 and in inference it
is ``F.scaled_dot_product_attention`` itself; bfloat16 training on CPU takes SDPA's math kernel instead of
the (much slower) CPU flash backward -- the same attention, checked here against both SDPA kernels."""

from __future__ import annotations

import sys

import pytest
import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

import lgvit
from lgvit.layers import attention
from lgvit.layers.attention import _written_out_attention as written_out


def _inputs(dtype, bias_kind):
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(6, 3, 50, 32, generator=g).to(dtype).requires_grad_() for _ in range(3))
    if bias_kind == "learned":  # a relative-position bias: broadcast over the batch, needs a gradient
        bias = (0.5 * torch.randn(1, 3, 50, 50, generator=g)).requires_grad_()
    elif bias_kind == "mask":  # a padding mask as an additive bias (no gradient)
        bias = torch.zeros(6, 1, 1, 50).masked_fill_(torch.arange(50) >= 43, -1e9)
    else:
        bias = None
    return q, k, v, bias


def _run(fn, q, k, v, bias):
    out = fn(q, k, v, bias)
    out.float().pow(2).sum().backward()
    leaves = [t for t in (q, k, v, bias) if t is not None and t.requires_grad]
    grads = [t.grad.clone() for t in leaves]
    for t in leaves:
        t.grad = None
    return out.detach(), grads


def _sdpa(backend):
    def fn(q, k, v, bias):
        mask = bias.to(q.dtype) if bias is not None else None
        with sdpa_kernel(backend):
            return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)

    return fn


def _float64(q, k, v, bias):
    """The attention of the same leaves in float64 (a reference free of float32 rounding)."""
    leaves = [
        None if t is None else t.detach().double().requires_grad_(t.requires_grad) for t in (q, k, v, bias)
    ]
    out, grads = _run(lambda q, k, v, b: F.scaled_dot_product_attention(q, k, v, attn_mask=b), *leaves)
    return out.float(), [g.float() for g in grads]


@pytest.mark.parametrize("bias_kind", ["none", "learned", "mask"])
@pytest.mark.parametrize("grad", [True, False], ids=["train", "infer"])
def test_float32_short_sequences_written_out_equal_sdpa(bias_kind, grad):
    """On CPU up to WRITTEN_OUT_MAX_KEYS keys the attention is written out (inference in cached chunks;
    also run at 2 sequences per chunk: chunk boundaries and per-chunk mask slices, bit for bit). It is
    the same attention as SDPA's fused kernel to float32 rounding, both measured against float64."""
    q, k, v, bias = _inputs(torch.float32, bias_kind)
    ref64 = _float64(q, k, v, bias)
    sdpa = _run(lambda q, k, v, b: F.scaled_dot_product_attention(q, k, v, attn_mask=b), q, k, v, bias)
    if grad:
        ours = _run(lambda *a: attention(*a), q, k, v, bias)
    else:
        with torch.no_grad():
            ours = (attention(q, k, v, bias), [])
            chunked = written_out(q, k, v, bias, 0.0, scores_per_chunk=2 * 50 * 50)  # 2 per chunk
        torch.testing.assert_close(chunked, ours[0], rtol=0, atol=0)
        sdpa, ref64 = (sdpa[0], []), (ref64[0], [])
    err = (ours[0] - ref64[0]).abs().max()
    assert err <= 2 * (sdpa[0] - ref64[0]).abs().max() + 1e-6 and err < 1e-5
    torch.testing.assert_close(ours[0], sdpa[0], rtol=1e-5, atol=2e-6)
    for a, b, r in zip(ours[1], sdpa[1], ref64[1]):
        torch.testing.assert_close(a, r, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def test_written_out_attention_takes_a_boolean_mask_and_a_broadcast_mask():
    """A boolean mask (True: attend) and a mask broadcast over the batch give SDPA's result."""
    q, k, v, _ = _inputs(torch.float32, "none")
    allowed = torch.arange(50) < 40
    with torch.no_grad():
        for mask in (allowed.expand(6, 1, 50, 50), allowed.expand(1, 3, 50, 50)):
            torch.testing.assert_close(
                attention(q, k, v, mask),
                F.scaled_dot_product_attention(q, k, v, attn_mask=mask),
                rtol=1e-5,
                atol=2e-6,
            )


def test_float32_long_sequences_are_sdpa_exactly():
    """Beyond WRITTEN_OUT_MAX_KEYS keys without a bias to train, SDPA's kernel, bit for bit."""
    g = torch.Generator().manual_seed(0)
    n = sys.modules["lgvit.layers.attention"].WRITTEN_OUT_MAX_KEYS + 22
    q, k, v = (torch.randn(2, 3, n, 32, generator=g).requires_grad_() for _ in range(3))
    ours = _run(lambda *a: attention(*a), q, k, v, None)
    ref = _run(lambda q, k, v, b: F.scaled_dot_product_attention(q, k, v, attn_mask=b), q, k, v, None)
    torch.testing.assert_close(ours[0], ref[0], rtol=0, atol=0)
    for a, b in zip(ours[1], ref[1]):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize("bias_kind", ["none", "learned", "mask"])
def test_bfloat16_training_uses_the_math_kernel_and_matches_flash(bias_kind):
    q, k, v, bias = _inputs(torch.bfloat16, bias_kind)
    ours = _run(lambda *a: attention(*a), q, k, v, bias)
    math = _run(_sdpa(SDPBackend.MATH), q, k, v, bias)
    # the math kernel, bit for bit
    torch.testing.assert_close(ours[0], math[0], rtol=0, atol=0)
    for a, b in zip(ours[1], math[1]):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    # and the same attention as SDPA's default (flash) kernel, to bfloat16 precision; both against a
    # float64 reference, so the tolerance is the kernels' own rounding, not a guess
    ref64 = _run(
        lambda q, k, v, b: F.scaled_dot_product_attention(
            q.double(), k.double(), v.double(), attn_mask=None if b is None else b.double()
        ),
        *(t.detach().requires_grad_(t.requires_grad) for t in (q, k, v)),
        None if bias is None else bias.detach().requires_grad_(bias.requires_grad),
    )
    flash = _run(_sdpa(SDPBackend.FLASH_ATTENTION), q, k, v, bias) if bias_kind != "learned" else None
    err_ours = (ours[0].double() - ref64[0]).abs().max()
    assert err_ours < 0.05
    if flash is not None:
        assert err_ours <= 2 * (flash[0].double() - ref64[0]).abs().max() + 1e-2
    for a, r in zip(ours[1], ref64[1]):
        assert (a.double() - r).abs().max() <= 0.05 * r.abs().max()


def test_inference_in_bfloat16_keeps_sdpa():
    q, k, v, _ = _inputs(torch.bfloat16, "none")
    with torch.no_grad():
        ref = F.scaled_dot_product_attention(q, k, v)
        torch.testing.assert_close(attention(q, k, v), ref, rtol=0, atol=0)


def test_models_train_under_bfloat16_autocast_through_it():
    """Every family's attention goes through :func:`attention`: a bfloat16 autocast training step runs and
    gives finite gradients (the math kernel gets the float32 relative-position bias cast to bfloat16)."""
    torch.manual_seed(0)
    for name, kwargs in [
        ("regionvit_ti", dict(depths=(1, 1, 1, 1))),
        ("salg_st", dict(depths=(1, 1, 1, 1))),
        ("rsir_t", dict(depths=(1, 1, 1, 1))),
    ]:
        model = lgvit.create_model(name, num_classes=10, **kwargs).train()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = F.cross_entropy(model(torch.randn(2, 3, 64, 64)), torch.tensor([1, 2]))
        loss.backward()
        grads = [p.grad for p in model.parameters() if p.grad is not None]
        assert grads and all(torch.isfinite(g).all() for g in grads), name


def test_scriptable_and_fx_traceable():
    """Its branch is on dtype, device and grad mode: TorchScript compiles it, and timm's FX feature
    extraction keeps it as one call (registered as a leaf) instead of failing on the branch."""
    from timm.models._features_fx import create_feature_extractor

    scripted = torch.jit.script(attention)
    q, k, v, _ = _inputs(torch.float32, "none")
    with torch.no_grad():
        torch.testing.assert_close(scripted(q, k, v), attention(q, k, v), rtol=0, atol=0)

    layer = lgvit.layers.Attention(64, 2).eval()
    extractor = create_feature_extractor(layer, return_nodes=["proj"])
    x = torch.randn(2, 10, 64)
    with torch.no_grad():
        torch.testing.assert_close(extractor(x)["proj"], layer(x), rtol=0, atol=0)


def test_gather_bias_equals_indexing_forward_and_backward():
    """lgvit.layers.gather_bias (SALG's per-pair bias, a custom backward) against plain advanced indexing
    of the table, values and the table's gradient, with repeated and unused table entries."""
    from lgvit.layers import gather_bias

    g = torch.Generator().manual_seed(0)
    table = torch.randn(3, 20, dtype=torch.float64, generator=g, requires_grad=True)
    index = torch.randint(0, 17, (5, 36), generator=g)  # entries 17..19 never read
    weight = torch.randn(5, 3, 36, dtype=torch.float64, generator=g)
    out = gather_bias(table, index)
    (grad,) = torch.autograd.grad((out * weight).sum(), table)
    ref = table[:, index].permute(1, 0, 2)  # S, heads, n
    (ref_grad,) = torch.autograd.grad((ref * weight).sum(), table)
    assert out.shape == (5, 3, 36) and out.is_contiguous()
    torch.testing.assert_close(out, ref, rtol=0, atol=0)
    torch.testing.assert_close(grad, ref_grad, rtol=1e-12, atol=1e-12)
    assert (grad[:, 17:] == 0).all() and (grad[:, :17] != 0).any()
