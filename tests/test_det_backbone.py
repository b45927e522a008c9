"""The Detectron2 backbone adapter: declared shapes equal real outputs (also for sizes not divisible by
32), every parameter gets a gradient, freezing through the model's group_matcher and the classifier
removed through its own API (checked on a contract model with other module names and on every registered
model), and clear errors for bad models/inputs."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
from detectron2.layers import ShapeSpec
from detectron2.modeling.backbone import FPN
from detectron2.modeling.backbone.fpn import LastLevelMaxPool
from detectron2.structures import ImageList
from lgvit_det import LGViTBackbone, feature_name, fpn_p6p7
from lgvit_det.backbone import stem_and_stage_parameters

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


class _StubStage(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.down = nn.Conv2d(c_in, c_out, stride, stride)
        self.blocks = nn.ModuleList([nn.Conv2d(c_out, c_out, 3, padding=1)])
        self.grad_checkpointing = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.down(x)
        for b in self.blocks:
            x = x + b(x)
        return x


class StubNet(lgvit.LGViTModel):
    """A minimal contract model whose modules are named unlike RegionViT's: stem ``stem_conv``, stage
    ``i`` = ``stages.i.down`` + ``stages.i.blocks``. Its coarse matcher also has a non-stage entry (the
    final norm), as timm's matchers do."""

    def __init__(self, num_classes: int = 10, out_norms: bool = True, stem: str = r"^stem_conv"):
        super().__init__()
        dims = (8, 16, 24, 32)
        self.stem_conv = nn.Conv2d(3, dims[0], 4, 4)
        self.stages = nn.ModuleList(
            _StubStage(dims[max(i - 1, 0)], d, 1 if i == 0 else 2) for i, d in enumerate(dims)
        )
        self._stem = stem
        self.init_contract(dims, (4, 8, 16, 32), 3, num_classes, out_norms=out_norms)

    def group_matcher(self, coarse: bool = False) -> dict:
        blocks = r"^stages\.(\d+)" if coarse else r"^stages\.(\d+)\.(?:down|blocks\.(\d+))"
        return dict(stem=self._stem, blocks=[(blocks, None), (r"^norm", (99999,))])

    def forward_stages(self, x, num_frames=1, pyramid_norms=False, stop_at=-1):
        x = self.stem_conv(x)
        pyramid = []
        for i, (stage, norm) in enumerate(zip(self.stages, self.det_norms)):
            if stop_at < 0 or i <= stop_at:
                x = stage(x)
                if pyramid_norms:
                    x = norm(x)
                pyramid.append(x)
        return x, pyramid


@pytest.mark.parametrize("freeze_at", [0, 1, 2, 3, 4, 5])
def test_freezing_goes_through_group_matcher(freeze_at):
    """freeze_at=1 freezes exactly what group_matcher()['stem'] matches; k >= 2 also stages 0..k-2 (stage
    membership from group_matcher(coarse=True)); the detection norms and later stages stay trainable."""
    bb = LGViTBackbone(StubNet(), freeze_at=freeze_at)
    frozen = sorted(n for n, p in bb.model.named_parameters() if not p.requires_grad)
    expected = [f"stem_conv.{p}" for p in ("bias", "weight")] if freeze_at >= 1 else []
    for i in range(freeze_at - 1):
        expected += [f"stages.{i}.{m}.{p}" for m in ("blocks.0", "down") for p in ("bias", "weight")]
    assert frozen == sorted(expected)
    out = bb(torch.randn(2, 3, 64, 64))
    sum(o.pow(2).mean() for o in out.values()).backward()
    assert all((p.grad is None) == (n in frozen) for n, p in bb.model.named_parameters())


def test_freezing_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"freeze_at=6 .* finds 4 stages: use freeze_at <= 5"):
        LGViTBackbone(StubNet(), freeze_at=6)
    with pytest.raises(ValueError, match=r"freeze_at=1 would not freeze the stem.*matches no parameter"):
        LGViTBackbone(StubNet(stem=r"^patch_embed|^region_embed"), freeze_at=1)
    with pytest.raises(ValueError, match=">= 0"):
        LGViTBackbone(StubNet(), freeze_at=-1)
    assert LGViTBackbone(StubNet(stem=r"^nothing"), freeze_at=0)  # nothing asked, nothing checked


def test_classifier_and_final_norm_dropped_through_the_model_api():
    """prune_intermediate_layers replaces the head and final norm by Identity (recorded in
    ``pruned_modules``); the pyramid is unchanged and every parameter left gets a gradient (DDP)."""
    torch.manual_seed(0)
    model = StubNet(num_classes=10)
    x = torch.randn(2, 3, 64, 96)
    with torch.no_grad():
        ref = model.forward_pyramid(x)
    bb = LGViTBackbone(model)
    assert isinstance(model.head, nn.Identity) and isinstance(model.norm, nn.Identity)
    assert bb.pruned_modules == ("head", "norm")
    assert len(model.stages) == 4 and model.pyramid_channels == (8, 16, 24, 32)
    out = bb(x)
    for r, o in zip(ref, out.values()):
        torch.testing.assert_close(o, r, rtol=0, atol=0)
    sum(o.pow(2).mean() for o in out.values()).backward()
    assert [n for n, p in bb.named_parameters() if p.grad is None] == []


@pytest.mark.parametrize("name", lgvit.list_models())
def test_every_registered_model_freezes_and_prunes_through_the_contract(name):
    """Built on the meta device (constructors run, no memory): freeze_at=k freezes the stem and stages
    0..k-2 as the model's group_matcher says, and nothing of the classifier is left."""
    with torch.device("meta"):
        model = lgvit.create_model(name, num_classes=1000, out_norms=True)
    stem, stages = stem_and_stage_parameters(model)
    assert stem and len(stages) == len(model.stages)
    assert all(n.startswith(f"stages.{i}.") for i, group in enumerate(stages) for n in group)
    n_stages = len(model.stages)
    bb = LGViTBackbone(model, freeze_at=n_stages + 1)
    assert isinstance(model.get_classifier(), nn.Identity) and isinstance(model.norm, nn.Identity)
    frozen = {n for n, p in bb.model.named_parameters() if not p.requires_grad}
    assert frozen == set(stem).union(*stages)
    assert not any(n.startswith("det_norms.") for n in frozen)
    with pytest.raises(ValueError, match="stages"):
        bb.freeze(n_stages + 2)


def test_model_without_detection_norms_is_refused():
    model = lgvit.create_model("regionvit_ti", num_classes=0, out_norms=False, **TINY)
    with pytest.raises(ValueError, match="out_norms=True"):
        LGViTBackbone(model)
    assert LGViTBackbone(model, require_out_norms=False).output_shape()["res5"].channels == 128


def test_non_lgvit_model_is_refused():
    with pytest.raises(TypeError, match="contract.*forward_pyramid"):
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
