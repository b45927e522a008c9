"""timm model API for every RegionViT variant: what timm's own ``tests/test_models.py`` checks
(default cfgs, forward_features/forward_head, reset_classifier, features_only, forward_intermediates,
grad checkpointing), plus pretrained loading from a local file."""

from __future__ import annotations

import math

import pytest
import timm
import torch
import torch.nn as nn
from conftest import OFFICIAL_DIR

import lgvit
from lgvit.models.regionvit import RegionViT

VARIANTS = lgvit.list_models("regionvit_*")
# 3-conv stem + window 7; window 14 + PEG; 1-conv stem. Every variant's shapes, pyramid and cfg names are
# checked in test_regionvit_model.py; the timm API runs on these to keep the suite fast on 2 cores.
REPRESENTATIVE = ["regionvit_ti", "regionvit_s_w14_peg", "regionvit_m"]


def test_timm_knows_every_variant_after_import():
    assert set(timm.list_models("regionvit_*")) == set(VARIANTS)
    for name in VARIANTS:
        assert timm.is_model(name)
    assert isinstance(timm.create_model("regionvit_ti"), RegionViT)


@pytest.mark.parametrize("name", REPRESENTATIVE)
def test_default_cfg_and_head_api(name):
    """timm test_model_default_cfgs. The full 224x224 input for the smallest model, 64x64 for the others
    (the head API does not depend on the size; the pool size at 224 is checked separately)."""
    model = timm.create_model(name, pretrained=False).eval()
    cfg = model.pretrained_cfg
    assert model.default_cfg == cfg
    assert cfg["architecture"] == name
    assert cfg["input_size"] == (3, 224, 224) and cfg["num_classes"] == 1000 and not cfg["fixed_input_size"]
    dim = lgvit.REGIONVIT_CFGS[name].dims[-1]
    assert model.num_classes == 1000 and model.num_features == model.head_hidden_size == dim

    # first_conv / classifier name real modules of the right kind
    state_dict = model.state_dict()
    for name_ in cfg["first_conv"]:
        conv = model.get_submodule(name_)
        assert isinstance(conv, nn.Conv2d) and conv.in_channels == 3
        assert name_ + ".weight" in state_dict
    classifier = model.get_submodule(cfg["classifier"])
    assert classifier is model.get_classifier()
    assert isinstance(classifier, nn.Linear)
    assert (classifier.in_features, classifier.out_features) == (model.num_features, 1000)

    x = torch.randn(1, *cfg["input_size"]) if name == "regionvit_ti" else torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        logits = model(x)
        feats = model.forward_features(x)
        pre = model.forward_head(feats, pre_logits=True)
        assert feats.ndim == 4 and feats.shape[1] == model.num_features
        assert pre.shape == (1, model.head_hidden_size)
        torch.testing.assert_close(model.forward_head(feats), logits, rtol=0, atol=0)
        torch.testing.assert_close(classifier(pre), logits, rtol=1e-5, atol=1e-5)

        model.reset_classifier(0)
        assert model.num_classes == 0 and isinstance(model.get_classifier(), nn.Identity)
        out = model(x)
        assert out.shape == pre.shape
        torch.testing.assert_close(out, pre, rtol=0, atol=0)

        model.reset_classifier(0, "")  # no pooling either: the unpooled map
        out = model(x)
        assert out.ndim == 4
        torch.testing.assert_close(out, feats, rtol=0, atol=0)

        model.reset_classifier(7, "avg")
        assert model(x).shape == (1, 7) and model.get_classifier().out_features == 7


def test_create_without_head_and_pooling():
    model = timm.create_model("regionvit_ti", num_classes=0, global_pool="").eval()
    with torch.no_grad():
        out = model(torch.randn(1, 3, 224, 224))
    assert out.shape == (1, 512, 1, 1)


@pytest.mark.parametrize("name", ["regionvit_ti", "regionvit_ti_w14"])
def test_pool_size_is_forward_features_size(name):
    model = timm.create_model(name).eval()
    with torch.no_grad():
        feats = model.forward_features(torch.randn(1, *model.pretrained_cfg["input_size"]))
    assert tuple(feats.shape[-2:]) == tuple(model.pretrained_cfg["pool_size"])


def test_global_pool_choices_of_timm_and_bad_pool():
    x = torch.randn(2, 3, 64, 64)
    model = timm.create_model("regionvit_ti", global_pool="max", num_classes=0).eval()
    with torch.no_grad():
        feats = model.forward_features(x)
        torch.testing.assert_close(model(x), feats.amax(dim=(2, 3)))
        model.reset_classifier(0, "catavgmax")
        assert model.head_hidden_size == 2 * model.num_features
        torch.testing.assert_close(model(x), torch.cat([feats.mean((2, 3)), feats.amax((2, 3))], 1))
    with pytest.raises(ValueError, match="global_pool must be one of"):
        timm.create_model("regionvit_ti", global_pool="token")
    with pytest.raises(ValueError, match="global_pool must be one of"):
        model.reset_classifier(3, "token")


@pytest.mark.parametrize("name", REPRESENTATIVE)
def test_features_only(name):
    """timm test_model_forward_features (96x96, batch 1) + the values equal forward_pyramid."""
    model = timm.create_model(name, features_only=True).eval()
    base = model.model  # FeatureGetterNet wraps the (pruned) RegionViT
    assert isinstance(base, RegionViT)
    assert model.feature_info.channels() == list(base.pyramid_channels)
    assert model.feature_info.reduction() == list(base.pyramid_strides)
    x = torch.randn(1, 3, 96, 96)
    with torch.no_grad():
        outs = model(x)
        ref = base.forward_pyramid(x)
    assert len(outs) == 4
    for c, r, o, e in zip(model.feature_info.channels(), model.feature_info.reduction(), outs, ref):
        assert o.shape[:2] == (1, c)
        assert o.shape[-1] <= math.ceil(96 / r) + 1 and o.shape[-2] <= math.ceil(96 / r) + 1
        assert torch.isfinite(o).all()
        torch.testing.assert_close(o, e, rtol=0, atol=0)


def test_features_only_out_indices_and_det_norms():
    model = timm.create_model("regionvit_ti", features_only=True, out_indices=(1, 3)).eval()
    assert model.feature_info.channels() == [128, 512]
    assert model.feature_info.reduction() == [8, 32]
    outs = model(torch.randn(2, 3, 72, 100))
    assert [tuple(o.shape) for o in outs] == [(2, 128, 9, 13), (2, 512, 3, 4)]
    # with the detection norms, the features are normalised over channels
    model = timm.create_model("regionvit_ti", features_only=True, out_norms=True).eval()
    with torch.no_grad():
        for o in model(torch.randn(1, 3, 64, 64)):
            torch.testing.assert_close(o.mean(1), torch.zeros_like(o.mean(1)), rtol=0, atol=1e-5)


@pytest.mark.parametrize("name", ["regionvit_ti", "regionvit_s_w14_peg"])
def test_forward_intermediates(name):
    """timm test_model_forward_intermediates + index selection and grad checkpointing."""
    model = timm.create_model(name).eval()
    x = torch.randn(1, 3, 96, 120)
    with torch.no_grad():
        final, inter = model.forward_intermediates(x)
        torch.testing.assert_close(final, model.forward_features(x), rtol=0, atol=0)
        pyramid = model.forward_pyramid(x)
        assert len(inter) == 4
        for a, b in zip(inter, pyramid):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
        _, last2 = model.forward_intermediates(x, indices=2)
        assert [t.shape[1] for t in last2] == list(model.pyramid_channels[2:])
        only = model.forward_intermediates(x, indices=[0, 2], intermediates_only=True, stop_early=True)
        assert len(only) == 2
        torch.testing.assert_close(only[1], pyramid[2], rtol=0, atol=0)
        with pytest.raises(ValueError, match="NCHW"):
            model.forward_intermediates(x, output_fmt="NHWC")
    model.set_grad_checkpointing()
    final2, _ = model.forward_intermediates(x)  # grad enabled: checkpointing is active
    torch.testing.assert_close(final2.detach(), final, rtol=1e-4, atol=1e-5)


def test_prune_intermediate_layers():
    model = timm.create_model("regionvit_ti").eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        ref = model.forward_pyramid(x)
        assert model.prune_intermediate_layers(indices=(0, 1)) == [0, 1]
        assert len(model.stages) == 2 and model.num_classes == 0
        inter = model.forward_intermediates(x, indices=(0, 1), intermediates_only=True)
    for a, b in zip(inter, ref[:2]):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_no_weight_decay_and_group_matcher():
    model = timm.create_model("regionvit_s_w14_peg")
    names = dict(model.named_parameters())
    nwd = model.no_weight_decay()
    assert nwd and nwd <= names.keys()
    assert nwd == {n for n in names if n.endswith("rel_pos")}
    assert len(nwd) == sum(lgvit.REGIONVIT_CFGS["regionvit_s_w14_peg"].depths)

    from timm.models import group_parameters

    for coarse in (False, True):
        groups = group_parameters(model, model.group_matcher(coarse=coarse))
        grouped = [n for g in groups.values() for n in g]
        assert sorted(grouped) == sorted(names), "every parameter in exactly one group"
        order = list(groups)
        first = next(i for i, g in enumerate(order) if "patch_embed.proj.0.weight" in groups[g])
        assert "region_embed.proj.weight" in groups[order[first]]
        assert first == 0, "stem first"
        assert "head.weight" in groups[order[-1]], "head last"

    # layer-wise lr decay (timm.optim) works off group_matcher: stem smallest scale, head 1.0
    from timm.optim._param_groups import param_groups_layer_decay

    pgs = param_groups_layer_decay(model, weight_decay=0.05, layer_decay=0.5)
    by_param = {id(p): g["lr_scale"] for g in pgs for p in g["params"]}
    assert by_param[id(names["head.weight"])] == 1.0
    assert by_param[id(names["patch_embed.proj.0.weight"])] == min(by_param.values())
    assert len(by_param) == len(names)


# ---------------------------------------------------------------------------------- pretrained


def test_pretrained_without_file_is_a_clear_error():
    with pytest.raises(ValueError, match="ships no pretrained weights") as e:
        timm.create_model("regionvit_s", pretrained=True)
    assert "pretrained_cfg_overlay=dict(file=" in str(e.value)


def test_pretrained_without_file_through_lgvit_is_a_clear_error():
    with pytest.raises(ValueError, match="ships no pretrained weights"):
        lgvit.create_model("regionvit_s", pretrained=True)


@pytest.mark.parametrize("wrap", [None, "model", "state_dict"])
def test_pretrained_from_local_file_ours(tmp_path, wrap):
    src = lgvit.create_model("regionvit_ti").eval()
    path = tmp_path / "ti.pth"
    sd = src.state_dict()
    torch.save({wrap: sd} if wrap else sd, path)
    model = timm.create_model(
        "regionvit_ti", pretrained=True, pretrained_cfg_overlay=dict(file=str(path))
    ).eval()
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, sd[k], rtol=0, atol=0, msg=k)
    # another class count: timm drops the head, everything else loads
    model10 = timm.create_model(
        "regionvit_ti", pretrained=True, num_classes=10, pretrained_cfg_overlay=dict(file=str(path))
    ).eval()
    assert model10.get_classifier().out_features == 10
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model10.forward_features(x), src.forward_features(x), rtol=0, atol=0)


OFFICIAL_A = OFFICIAL_DIR / "regionvit_official_a.pt"


@pytest.mark.skipif(
    not OFFICIAL_A.is_file(), reason=f"official RegionViT reference outputs not found: {OFFICIAL_A}"
)
def test_pretrained_from_local_file_official_format(tmp_path):
    """An official-format checkpoint (under 'model', as the IBM releases are) loads through timm's
    pretrained path and reproduces the official logits and detection features."""
    ref = torch.load(OFFICIAL_A, weights_only=True)
    path = tmp_path / "official.pth"
    torch.save({"model": ref["state_dict"]}, path)
    c = ref["config"]
    model = timm.create_model(
        "regionvit_ti",  # overridden to the test config: any architecture loads through the same path
        pretrained=True,
        pretrained_cfg_overlay=dict(file=str(path), num_classes=c["num_classes"]),
        num_classes=c["num_classes"],
        dims=tuple(c["embed_dim"][1:]),
        depths=tuple(c["depth"]),
        heads=tuple(c["num_heads"]),
        out_norms=True,
    ).eval()
    with torch.no_grad():
        for case in ref["cases"]:
            torch.testing.assert_close(model(case["input"]), case["logits"], rtol=0, atol=1e-4)
            for ours, theirs in zip(model.forward_pyramid(case["input"]), case["features"]):
                torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-4)


def test_pretrained_from_local_file_wrong_variant_is_a_value_error_naming_the_mismatch(tmp_path):
    path = tmp_path / "ti.pth"
    torch.save(lgvit.create_model("regionvit_ti").state_dict(), path)
    pattern = r"patch_embed\.proj\.0\.weight: checkpoint \(16, 3, 3, 3\) vs model \(24, 3, 3, 3\)"
    with pytest.raises(ValueError, match=pattern):
        timm.create_model("regionvit_s", pretrained=True, pretrained_cfg_overlay=dict(file=str(path)))
