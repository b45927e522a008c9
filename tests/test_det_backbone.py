"""The Detectron2 backbone adapter: declared shapes equal real outputs (also for sizes not divisible by
32), every parameter gets a gradient, freezing, and clear errors for bad models/inputs."""

from __future__ import annotations

import pytest
import torch
from detectron2.layers import ShapeSpec
from detectron2.modeling.backbone import FPN
from detectron2.modeling.backbone.fpn import LastLevelMaxPool
from detectron2.structures import ImageList
from lgvit_det import LGViTBackbone, feature_name, fpn_p6p7

import lgvit

TINY = dict(dims=(16, 32, 64, 128), depths=(1, 1, 1, 1), heads=(1, 2, 4, 8))


def tiny_backbone(**kwargs) -> LGViTBackbone:
    model = lgvit.create_model("regionvit_ti", num_classes=0, out_norms=True, **TINY)
    return LGViTBackbone(model, **kwargs)


def test_feature_names_follow_detectron2():
    assert [feature_name(s) for s in (4, 8, 16, 32, 64)] == ["res2", "res3", "res4", "res5", "res6"]
    with pytest.raises(ValueError, match="powers of two"):
        feature_name(12)


@pytest.mark.parametrize("name", ["regionvit_ti", "regionvit_s_w14_peg"])  # plain, and window 14 + PEG
def test_output_shape_declared(name):
    model = lgvit.create_model(name, num_classes=0, out_norms=True)
    bb = LGViTBackbone(model)
    shapes = bb.output_shape()
    assert list(shapes) == ["res2", "res3", "res4", "res5"]
    assert [s.channels for s in shapes.values()] == list(model.pyramid_channels)
    assert [s.stride for s in shapes.values()] == [4, 8, 16, 32]
    assert bb.size_divisibility == 32
    assert bb.padding_constraints["size_divisibility"] == 32


@pytest.mark.parametrize("hw", [(64, 96), (100, 75), (37, 133), (224, 224)])
def test_real_outputs_match_output_shape_after_padding(hw):
    """Images padded by ImageList to size_divisibility give maps of exactly (H/s, W/s) for every stride,
    which is what FPN's top-down sums need."""
    bb = tiny_backbone().eval()
    images = ImageList.from_tensors([torch.randn(3, *hw)], size_divisibility=bb.size_divisibility)
    H, W = images.tensor.shape[-2:]
    assert H % 32 == 0 and W % 32 == 0
    with torch.no_grad():
        out = bb(images.tensor)
    for k, spec in bb.output_shape().items():
        assert tuple(out[k].shape) == (1, spec.channels, H // spec.stride, W // spec.stride), k
        assert torch.isfinite(out[k]).all()


@pytest.mark.parametrize("hw", [(37, 133), (4, 4), (17, 9)])
def test_unpadded_odd_and_tiny_sizes_work(hw):
    """Without padding, maps are ceil(H / stride) (the model pads internally and crops back)."""
    bb = tiny_backbone().eval()
    with torch.no_grad():
        out = bb(torch.randn(2, 3, *hw))
    for k, spec in bb.output_shape().items():
        h, w = (-(-d // spec.stride) for d in hw)
        assert out[k].shape[0] == 2 and out[k].shape[1] == spec.channels
        assert abs(out[k].shape[-2] - h) <= 1 and abs(out[k].shape[-1] - w) <= 1, (k, out[k].shape, (h, w))


def test_every_parameter_gets_a_gradient():
    """Classifier-only parts (final norm, head) are removed: an unused parameter would break DDP."""
    bb = tiny_backbone()
    out = bb(torch.randn(2, 3, 64, 96))
    sum(o.float().pow(2).mean() for o in out.values()).backward()
    params = dict(bb.named_parameters())
    no_grad = [n for n, p in params.items() if p.grad is None]
    assert no_grad == []
    assert not any(n.startswith(("model.norm.", "model.head.")) for n in params)
    assert any(n.startswith("model.det_norms.") for n in params)


def test_out_features_subset_and_unknown():
    bb = tiny_backbone(out_features=["res3", "res5"])
    assert list(bb.output_shape()) == ["res3", "res5"]
    assert list(bb(torch.randn(1, 3, 64, 64))) == ["res3", "res5"]
    with pytest.raises(ValueError, match="unknown out_features"):
        tiny_backbone(out_features=["res6"])


def test_freeze_at():
    assert all(p.requires_grad for p in tiny_backbone(freeze_at=0).parameters())
    bb = tiny_backbone(freeze_at=2)
    frozen = {n for n, p in bb.model.named_parameters() if not p.requires_grad}
    assert any(n.startswith("patch_embed.") for n in frozen) and any(
        n.startswith("region_embed.") for n in frozen
    )
    assert any(n.startswith("stages.0.") for n in frozen)
    assert not any(n.startswith(("stages.1.", "det_norms.")) for n in frozen)


def test_model_without_detection_norms_is_refused():
    model = lgvit.create_model("regionvit_ti", num_classes=0, out_norms=False, **TINY)
    with pytest.raises(ValueError, match="out_norms=True"):
        LGViTBackbone(model)
    assert LGViTBackbone(model, require_out_norms=False).output_shape()["res5"].channels == 128


def test_non_lgvit_model_is_refused():
    with pytest.raises(TypeError, match="forward_pyramid"):
        LGViTBackbone(torch.nn.Conv2d(3, 8, 3))


def test_grayscale_input_gives_a_clear_error():
    with pytest.raises(ValueError, match="grayscale"):
        tiny_backbone()(torch.randn(1, 1, 64, 64))


def test_fpn_and_p6p7_line_up_on_odd_sizes():
    """Mask R-CNN's FPN (res2..res5 + max-pool P6) and RetinaNet's (res3..res5 + P6/P7 from C5 with C5's
    channel count) on an image that needs padding."""
    bb = tiny_backbone()
    fpn = FPN(
        bottom_up=bb,
        in_features=["res2", "res3", "res4", "res5"],
        out_channels=32,
        top_block=LastLevelMaxPool(),
    )
    retina = fpn_p6p7(tiny_backbone(out_features=["res3", "res4", "res5"]), out_channels=32)
    assert retina.top_block.p6.in_channels == 128
    images = ImageList.from_tensors([torch.randn(3, 70, 101)], size_divisibility=fpn.size_divisibility)
    for net, names in ((fpn, ["p2", "p3", "p4", "p5", "p6"]), (retina, ["p3", "p4", "p5", "p6", "p7"])):
        out = net(images.tensor)
        assert list(out) == names
        for k, spec in net.output_shape().items():
            assert out[k].shape[1] == spec.channels == 32
            assert out[k].shape[-2] == -(-images.tensor.shape[-2] // spec.stride), k


def test_p6p7_from_p5_and_bad_source():
    assert fpn_p6p7(tiny_backbone(), p6_from="p5", out_channels=32).top_block.p6.in_channels == 32
    with pytest.raises(ValueError, match="p6_from"):
        fpn_p6p7(tiny_backbone(), p6_from="res9")


def test_shape_spec_types():
    assert all(isinstance(s, ShapeSpec) for s in tiny_backbone().output_shape().values())
