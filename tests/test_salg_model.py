"""Per-variant SALG checks: shapes at any size, finiteness, gradients on every parameter, batch size 1,
batch independence, frame independence (video layout), AGR tokens at several sizes, torch.compile vs
eager, exact parameter counts against an independent formula, FLOPs, bad input, timm API."""

from __future__ import annotations

import math

import pytest
import timm
import torch
import torch.nn as nn

import lgvit
from lgvit.flops import count_flops
from lgvit.models.salg import SALG, param_breakdown

# independent copy of the variants (Sec. III-D, IV-A): dims, depths, heads, propagation
ARCH = {
    "salg_st": ((48, 96, 192, 384), (2, 2, 2, 2), (2, 3, 6, 12), "ap"),
    "salg_t": ((96, 192, 384, 768), (2, 2, 6, 2), (3, 6, 12, 24), "ap"),
    "salg_s": ((96, 192, 384, 768), (2, 2, 18, 2), (3, 6, 12, 24), "ap"),
    "salg_st_msa": ((48, 96, 192, 384), (2, 2, 2, 2), (2, 3, 6, 12), "msa"),
    "salg_t_msa": ((96, 192, 384, 768), (2, 2, 6, 2), (3, 6, 12, 24), "msa"),
}
PADS = (1, 2, 1)  # coverage expansion of the three SALG stages
VARIANTS = lgvit.list_models("salg*")
FAST = ["salg_st", "salg_st_msa"]  # every code path (AP and MSA); the others' counts are checked below


def test_registry_lists_every_variant_of_the_issue():
    assert set(VARIANTS) == set(ARCH)
    assert set(timm.list_models("salg*")) == set(ARCH)
    assert isinstance(timm.create_model("salg_st"), SALG)


# ------------------------------------------------------------------------------ size formulas


def _conv_out(n: int, k: int, s: int, p: int) -> int:
    return (n + 2 * p - k) // s + 1


def expected_pyramid_hw(h: int, w: int) -> list[tuple[int, int]]:
    """3-conv stem (k3 s2 p1, k3 s2 p1, k3 s1 p1), then patch merging halves (ceil) per stage."""

    def stem(n):
        return _conv_out(_conv_out(_conv_out(n, 3, 2, 1), 3, 2, 1), 3, 1, 1)

    sizes = [(stem(h), stem(w))]
    for _ in range(3):
        sizes.append(tuple(math.ceil(n / 2) for n in sizes[-1]))
    return sizes


# the larger variants run the same code paths at other widths/depths; their shapes and gradients are checked
# by tests/test_contract.py (every registered model) and their parameter counts below, on the meta device
@pytest.fixture(scope="module", params=FAST)
def variant(request):
    torch.manual_seed(0)
    return request.param, lgvit.create_model(request.param).eval()


def test_forward_shapes_any_size_batch_one(variant):
    name, model = variant
    dims = ARCH[name][0]
    assert model.pyramid_channels == dims and model.pyramid_strides == (4, 8, 16, 32)
    with torch.no_grad():
        for h, w in [(224, 224), (200, 264), (230, 298), (37, 53)]:
            x = torch.randn(1, 3, h, w)
            final, pyramid = model.forward_intermediates(x)
            hw = expected_pyramid_hw(h, w)
            assert final.shape == (1, dims[-1], *hw[-1])
            logits = model.forward_head(final)
            assert logits.shape == (1, 1000) and torch.isfinite(logits).all()
            assert [tuple(f.shape) for f in pyramid] == [(1, c, *s) for c, s in zip(dims, hw)]
            assert all(torch.isfinite(f).all() for f in pyramid)
            if h == 224:
                torch.testing.assert_close(model(x), logits, rtol=0, atol=0)


def test_backward_every_parameter_and_grad_checkpointing_unchanged(variant):
    _, model = variant
    model.train()
    x = torch.randn(2, 3, 45, 61)  # odd: padding in every stem/merge/window

    def run():
        model.zero_grad(set_to_none=True)
        final, pyr = model.forward_intermediates(x)
        out = model.forward_head(final)
        (out.mean() + sum(p.mean() for p in pyr)).backward()
        return out.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}

    try:
        ref_out, ref_grads = run()
        model.set_grad_checkpointing(True)
        out, grads = run()
    finally:
        model.set_grad_checkpointing(False)
        model.zero_grad(set_to_none=True)
        model.eval()
    missing = [n for n, _ in model.named_parameters() if n not in ref_grads]
    assert not missing, f"no gradient for {missing}"
    assert all(torch.isfinite(g).all() for g in ref_grads.values())
    assert all(g.abs().sum() > 0 for n, g in ref_grads.items()), "a parameter with an all-zero gradient"
    torch.testing.assert_close(out, ref_out, rtol=1e-5, atol=1e-6)
    for n in ref_grads:
        torch.testing.assert_close(
            grads[n], ref_grads[n], rtol=1e-4, atol=1e-6, msg=lambda m, n=n: f"{n}: {m}"
        )


@pytest.mark.parametrize("name", FAST)
def test_batch_entries_are_independent(name):
    model = lgvit.create_model(name).eval()
    x = torch.randn(3, 3, 100, 132)
    with torch.no_grad():
        logits = model(x)
        pyramid = model.forward_pyramid(x)
        for b in range(3):
            torch.testing.assert_close(model(x[b : b + 1]), logits[b : b + 1], rtol=1e-5, atol=1e-5)
            for f, g in zip(model.forward_pyramid(x[b : b + 1]), pyramid):
                torch.testing.assert_close(f, g[b : b + 1], rtol=1e-5, atol=1e-5)


def test_blocks_keep_the_frame_stable_layout():
    """Block convention: (B*T, L, C) in and out, frames independent (per-frame segmentation happens
    inside), and token l stays the same image position: shifting one frame's content moves its output
    with it only where its regions and windows did not change -- checked simply: a clip of two equal
    frames gives two equal outputs, and a clip of two different frames equals each frame on its own."""
    model = lgvit.create_model("salg_st_msa").eval()
    for stage in model.stages[:3]:
        blk = stage.blocks[0]
        C = blk.attn.qkv.in_features
        hw = (12, 17)
        nA = 2 * 3
        x = torch.randn(2, nA + hw[0] * hw[1], C)
        with torch.no_grad():
            both = blk(x, 2, hw)
            assert both.shape == x.shape
            for t in range(2):
                torch.testing.assert_close(both[t : t + 1], blk(x[t : t + 1], 1, hw), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("hw", [(224, 224), (64, 96), (28, 28), (230, 298)])
def test_agr_tokens_one_per_window_at_any_size(hw):
    """AGR initialisation: ``agr_token + window mean`` for every 7x7 window of the stage map, whatever
    their number; all blocks of a stage see [nR AGR tokens, H*W map tokens]."""
    model = lgvit.create_model("salg_st").eval()
    seen = []

    def hook(module, args):
        tokens, _, (h, w), _ = args  # the block convention: (x, num_frames, hw, bias)
        seen.append((tokens.shape[1], h, w))

    handles = [b.register_forward_pre_hook(hook) for s in model.stages for b in s.blocks]
    try:
        with torch.no_grad():
            model(torch.randn(1, 3, *hw))
    finally:
        for h in handles:
            h.remove()
    sizes = expected_pyramid_hw(*hw)
    for i, (h, w) in enumerate(sizes):
        nR = math.ceil(h / 7) * math.ceil(w / 7) if i < 3 else 0
        assert seen[2 * i] == seen[2 * i + 1] == (nR + h * w, h, w), f"stage {i}"
    # the initial AGR tokens are the learned token plus the window means of the stage input
    stage = model.stages[0]
    x = torch.randn(1, 48, 10, 15)
    captured = {}

    def capture(module, args):
        captured["x"] = args[0]

    handle = stage.blocks[0].register_forward_pre_hook(capture)
    with torch.no_grad():
        stage(x)
    handle.remove()
    means = torch.stack(
        [x[0, :, :7, :7].mean((1, 2)), x[0, :, :7, 7:14].mean((1, 2)), x[0, :, :7, 14:].mean((1, 2))]
    )
    means = torch.cat(
        (
            means,
            torch.stack(
                [x[0, :, 7:, :7].mean((1, 2)), x[0, :, 7:, 7:14].mean((1, 2)), x[0, :, 7:, 14:].mean((1, 2))]
            ),
        )
    )
    torch.testing.assert_close(captured["x"][0, :6], stage.agr_token[0, 0] + means, rtol=1e-5, atol=1e-6)


def test_ap_propagation_makes_agr_tokens_equal_and_msa_does_not():
    for name, equal in (("salg_st", True), ("salg_st_msa", False)):
        blk = lgvit.create_model(name).stages[1].blocks[0].eval()
        x = torch.randn(1, 4 + 14 * 14, 96)
        with torch.no_grad():
            agr = blk(x, 1, (14, 14))[0, :4]
        assert torch.allclose(agr, agr[:1].expand(4, -1), atol=1e-6) == equal, name


# ------------------------------------------------------------------------------ torch.compile


@pytest.mark.slow
def test_torch_compile_equals_eager():
    """Inductor on CPU: inference at an odd size (padding, masks) and a training step at 224, logits and
    every gradient. The intra-region attention is one custom operator in the compiled graph (its sequences
    at the data's length, its backward written out), everything around it Inductor's code."""
    torch.manual_seed(0)
    model = lgvit.create_model("salg_st", depths=(2, 1, 1, 1)).eval()  # fewer blocks: compile time
    compiled = torch.compile(model, dynamic=False)  # a graph per size: symbolic shapes compile far slower
    with torch.no_grad():
        x = torch.randn(1, 3, 230, 298)
        torch.testing.assert_close(compiled(x), model(x), rtol=1e-4, atol=1e-4)
    model.train()
    x = torch.randn(2, 3, 224, 224)
    grads = []
    for fn in (compiled, model):
        model.zero_grad()
        logits = fn(x)
        logits.square().mean().backward()
        grads.append((logits.detach(), [p.grad.clone() for p in model.parameters()]))
    (got, got_grads), (want, want_grads) = grads
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)
    names = [n for n, _ in model.named_parameters()]
    for name, g, w in zip(names, got_grads, want_grads):
        torch.testing.assert_close(g, w, rtol=1e-3, atol=1e-5 * max(1.0, w.abs().max().item()), msg=name)


# ----------------------------------------------------------------------------------- param counts


def count_params_formula(name: str, num_classes: int = 1000) -> int:
    """Term by term: 3-conv stem (C/4, C/2, C; LayerNorms between) + per block [2 LayerNorms, qkv + proj,
    MLP ratio 4, one (2K-1)^2 rel-pos table per head, K = 7 + 2p (p = 0 in the normal stage); MSA
    variants: + 2 LayerNorms, attention and MLP among the AGR tokens, in all but a stage's last block] +
    one AGR token per SALG stage +
    patch merging [LayerNorm(4C), Linear 4C -> 2C without bias] + final LayerNorm + classifier."""
    dims, depths, heads, prop = ARCH[name]
    c0 = dims[0]
    q, h = c0 // 4, c0 // 2
    n = (3 * 9 * q + q) + 2 * q + (q * 9 * h + h) + 2 * h + (h * 9 * c0 + c0)
    prev = None
    for i, (d, depth, nh) in enumerate(zip(dims, depths, heads)):
        salg = i < 3
        k = 7 + 2 * (PADS[i] if salg else 0)
        attn = 4 * d * d + 4 * d
        mlp = 8 * d * d + 5 * d
        block = 2 * d + attn + nh * (2 * k - 1) ** 2 + 2 * d + mlp
        n += depth * block + (d if salg else 0)
        if salg and prop == "msa":  # every block but the stage's last (whose AGR tokens feed nothing)
            n += (depth - 1) * (2 * d + attn + 2 * d + mlp)
        if prev is not None:
            n += 2 * 4 * prev + 4 * prev * d
        prev = d
    return n + 2 * prev + prev * num_classes + num_classes


EXACT = {
    "salg_st": 5_519_510,
    "salg_t": 28_349_554,
    "salg_s": 49_684_738,
    "salg_st_msa": 6_104_486,
    "salg_t_msa": 37_778_578,
}
PAPER_M = {"salg_st": 6.5, "salg_t": 32.2, "salg_s": 53.0, "salg_st_msa": 7.1, "salg_t_msa": 42.4}


@pytest.mark.parametrize("name", VARIANTS)
def test_param_count_exact(name):
    with torch.device("meta"):
        model = lgvit.create_model(name)
    n = sum(p.numel() for p in model.parameters())
    assert n == count_params_formula(name) == EXACT[name]
    assert sum(param_breakdown(model).values()) == n


def test_paper_gaps_are_the_documented_arithmetic():
    """The accounting of lgvit/models/README.md: what the text describes stays below Tables I / IV; the MSA
    increment is 12C^2 + 13C per SALG block but a stage's last (MSA 4C^2 + 4C, MLP 8C^2 + 5C, two
    LayerNorms 4C)."""
    for name in ("salg_st", "salg_t"):
        dims, depths = ARCH[name][0], ARCH[name][1]
        inc = sum((depth - 1) * (12 * d * d + 13 * d) for d, depth in zip(dims[:3], depths[:3]))
        assert EXACT[f"{name}_msa"] - EXACT[name] == inc
    assert EXACT["salg_st_msa"] - EXACT["salg_st"] == 584_976  # paper: 7.1 - 6.5 = 0.6M
    assert EXACT["salg_t_msa"] - EXACT["salg_t"] == 9_429_024  # paper: 42.4 - 32.2 = 10.2M
    for name, paper in PAPER_M.items():
        assert EXACT[name] / 1e6 < paper, name


def test_param_breakdown_components():
    with torch.device("meta"):
        t, t_msa = lgvit.create_model("salg_t"), lgvit.create_model("salg_t_msa")
    a, b = param_breakdown(t), param_breakdown(t_msa)
    assert a["agr_propagation"] == 96 + 192 + 384  # the AGR tokens only: AP has no parameters
    assert {k: v for k, v in a.items() if k != "agr_propagation"} == {
        k: v for k, v in b.items() if k != "agr_propagation"
    }
    assert a["merging"] == sum(8 * c + 8 * c * c for c in (96, 192, 384))
    assert a["head"] == 2 * 768 + 768 * 1000 + 1000


# ---------------------------------------------------------------------------------------- FLOPs

GFLOPS_224 = {"salg_st": 1.004, "salg_st_msa": 1.010}


@pytest.mark.parametrize("name", sorted(GFLOPS_224))
def test_flops_at_224(name):
    model = lgvit.create_model(name).eval()
    assert count_flops(model, torch.randn(1, 3, 224, 224)) / 1e9 == pytest.approx(GFLOPS_224[name], abs=0.002)


# ------------------------------------------------------------------------------------- bad input


@pytest.fixture(scope="module")
def st():
    return lgvit.create_model("salg_st").eval()


def test_wrong_channel_count(st):
    with pytest.raises(ValueError, match=r"expected 3 input channels, got 4") as e:
        st(torch.randn(1, 4, 64, 64))
    assert "in_chans=4" in str(e.value)
    with pytest.raises(ValueError, match=r"expected 3 input channels, got 1"):
        st.forward_pyramid(torch.randn(1, 1, 64, 64))


def test_image_too_small_not_a_batch_not_float(st):
    for shape in [(1, 3, 3, 64), (1, 3, 64, 2)]:
        with pytest.raises(ValueError, match=r"smaller than one 4x4"):
            st(torch.randn(*shape))
    assert st(torch.randn(1, 3, 4, 4)).shape == (1, 1000)
    for shape in [(3, 64, 64), (1, 1, 3, 64, 64)]:
        with pytest.raises(ValueError, match=r"expected an image batch of shape \(B, 3, H, W\)"):
            st(torch.randn(*shape))
    with pytest.raises(ValueError, match="floating-point"):
        st(torch.zeros(1, 3, 32, 32, dtype=torch.uint8))


def test_bad_architecture_arguments():
    with pytest.raises(ValueError, match="propagation must be 'ap' or 'msa'"):
        lgvit.create_model("salg_st", propagation="max")
    with pytest.raises(ValueError, match=r"coverage expansion p=7 must be in \[0, window=7\)"):
        lgvit.create_model("salg_st", pads=(1, 7, 1))
    with pytest.raises(ValueError, match="num_convs=1 or 3"):
        lgvit.create_model("salg_st", stem_convs=2)


def test_one_conv_stem_option():
    """``stem_convs=1`` swaps the paper's three stem convs for RegionViT's single 8x8/4 conv (a measured
    alternative for the tiny video model); the rest of the model and the pyramid strides are unchanged."""
    torch.manual_seed(0)
    three, one = lgvit.create_model("salg_st"), lgvit.create_model("salg_st", stem_convs=1)
    convs = [m for m in one.patch_embed.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 1 and convs[0].kernel_size == (8, 8) and convs[0].stride == (4, 4)
    assert len([m for m in three.patch_embed.modules() if isinstance(m, nn.Conv2d)]) == 3
    stem_free = {k: v.shape for k, v in one.state_dict().items() if not k.startswith("patch_embed")}
    assert stem_free == {k: v.shape for k, v in three.state_dict().items() if not k.startswith("patch_embed")}
    with torch.no_grad():
        pyramid = one.eval().forward_pyramid(torch.randn(1, 3, 64, 96))
    assert [tuple(f.shape[2:]) for f in pyramid] == [(16, 24), (8, 12), (4, 6), (2, 3)]


# --------------------------------------------------------------------------------------- timm API


def test_features_only_and_intermediates():
    model = timm.create_model("salg_st", features_only=True, out_indices=(1, 3)).eval()
    assert model.feature_info.channels() == [96, 384] and model.feature_info.reduction() == [8, 32]
    outs = model(torch.randn(2, 3, 72, 100))
    assert [tuple(o.shape) for o in outs] == [(2, 96, 9, 13), (2, 384, 3, 4)]


def test_pretrained_from_local_file_and_rel_pos_resize(tmp_path):
    src = lgvit.create_model("salg_st").eval()
    path = tmp_path / "st.pth"
    torch.save({"model": src.state_dict()}, path)
    model = timm.create_model("salg_st", pretrained=True, pretrained_cfg_overlay=dict(file=str(path))).eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), src(x), rtol=0, atol=0)
    # another coverage expansion: the rel-pos tables are resized by the family's filter
    other = lgvit.create_model("salg_st", pads=(2, 1, 1))
    sd = other.checkpoint_filter(src.state_dict())
    assert sd["stages.0.blocks.0.rel_pos"].shape == (2, 21**2)
    assert sd["stages.1.blocks.0.rel_pos"].shape == (3, 17**2)
    other.load_state_dict(sd)


def test_no_weight_decay_and_group_matcher():
    model = lgvit.create_model("salg_st_msa")
    names = dict(model.named_parameters())
    nwd = model.no_weight_decay()
    assert nwd == {n for n in names if n.endswith(("rel_pos", "agr_token"))} and len(nwd) == 8 + 3
    from timm.models import group_parameters

    for coarse in (False, True):
        groups = group_parameters(model, model.group_matcher(coarse=coarse))
        grouped = sorted(n for g in groups.values() for n in g)
        assert grouped == sorted(names)
        assert "patch_embed.proj.0.weight" in groups[next(iter(groups))]
        assert "head.weight" in groups[list(groups)[-1]]
    assert isinstance(model.get_classifier(), nn.Linear)
