"""The lgvit backbone contract (``lgvit/models/base.py``), checked for every registered model.

Parametrised over ``lgvit.list_models()``: a new family is checked the moment it registers. Inputs are
small and of odd sizes (padding paths); the models are the registered ones at full width (every stage's
widths, heads, windows, stems, PEG...) with at most two blocks per stage: every block-level code path
(first and last block of a stage, SALG's propagation between blocks, RSIR's per-block permutations) is
there, and the deep third stages (8-24 blocks) would only repeat them at several times the cost.
"""

from __future__ import annotations

import copy
import functools
import math

import pytest
import torch
import torch.nn as nn
from timm.models._manipulate import group_parameters

import lgvit
from lgvit.checkpoint import load_pretrained

MODELS = lgvit.list_models()
SIZE = (61, 83)  # odd: every stage pads


@pytest.fixture(scope="module", params=MODELS)
def name(request) -> str:
    return request.param


def build(name: str, **kwargs) -> nn.Module:
    """A fresh copy of the seeded model (see the module docstring for the depths): building (weight init)
    costs a second or two for the B variants, a copy a fraction of that, and the tests run model by model
    (module-scoped ``name``)."""
    kwargs = {"num_classes": 7, "drop_path_rate": 0.0, "depths": shallow_depths(name), **kwargs}
    return copy.deepcopy(_seeded_model(name, tuple(sorted(kwargs.items()))))


@functools.cache
def shallow_depths(name: str) -> tuple[int, ...]:
    """The registered depths with at most two blocks per stage."""
    with torch.device("meta"):
        model = lgvit.create_model(name)
    return tuple(min(2, len(stage.blocks)) for stage in model.stages)


@functools.lru_cache(maxsize=3)
def _seeded_model(name: str, kwargs: tuple) -> nn.Module:
    torch.manual_seed(0)
    return lgvit.create_model(name, **dict(kwargs))


def test_is_an_lgvit_model_with_declared_pyramid(name):
    model = build(name)
    assert isinstance(model, lgvit.LGViTModel)
    n = len(model.stages)
    assert len(model.pyramid_channels) == len(model.pyramid_strides) == n == len(model.feature_info)
    assert list(model.pyramid_strides) == [4 * 2**i for i in range(n)]
    assert [f["num_chs"] for f in model.feature_info] == list(model.pyramid_channels)
    assert model.num_features == model.pyramid_channels[-1]


@pytest.mark.parametrize("out_norms", [False, True])
def test_pyramid_shapes_at_odd_size_match_declaration(name, out_norms):
    model = build(name, num_classes=0, out_norms=out_norms).eval()
    x = torch.randn(2, 3, *SIZE)
    with torch.no_grad():
        maps = model.forward_pyramid(x)
    assert len(maps) == len(model.pyramid_channels)
    for i, (m, c, s) in enumerate(zip(maps, model.pyramid_channels, model.pyramid_strides)):
        # exactly H/stride at multiples of 32 (test_detection_adapter...); at odd sizes the stem's
        # rounding may differ (RegionViT's 1-conv stem floors), the later stages halve with ceil
        assert m.shape[:2] == (2, c) and torch.isfinite(m).all()
        for got, size in zip(m.shape[2:], SIZE):
            assert math.floor(size / s) <= got <= math.ceil(size / s)
        if i:
            assert m.shape[2:] == tuple(math.ceil(d / 2) for d in maps[i - 1].shape[2:])
    if out_norms:  # the detection norms sit in the path: every map is normalised over channels
        m = maps[-1].permute(0, 2, 3, 1)
        torch.testing.assert_close(m.mean(-1), torch.zeros_like(m[..., 0]), atol=1e-4, rtol=0)


def test_forward_batch_independence_and_batch_size_one(name):
    model = build(name).eval()
    x = torch.randn(3, 3, *SIZE)
    with torch.no_grad():
        batched = model(x)
        single = torch.cat([model(x[i : i + 1]) for i in range(3)])
        feats = model.forward_features(x)
    assert batched.shape == (3, 7)
    torch.testing.assert_close(batched, single, atol=1e-5, rtol=1e-4)
    assert feats.shape[:2] == (3, model.num_features)
    torch.testing.assert_close(model.forward_head(feats), batched, atol=1e-6, rtol=1e-5)


def test_gradients_reach_every_parameter(name):
    model = build(name).train()
    x = torch.randn(2, 3, *SIZE)
    loss = model(x).square().mean() + sum(m.square().mean() for m in model.forward_pyramid(x))
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing, missing


def test_feature_api_indices_and_pruning_keep_declarations_true(name):
    model = build(name).eval()
    x = torch.randn(1, 3, *SIZE)
    with torch.no_grad():
        taps = model.forward_intermediates(x, intermediates_only=True)
        assert [t.shape[1] for t in taps] == list(model.pyramid_channels)
        last_two = model.forward_intermediates(x, indices=2, intermediates_only=True)
        torch.testing.assert_close(last_two[0], taps[-2])
    n = len(model.stages)
    for bad in ([n], [-n - 1], n + 1, 0, []):
        with pytest.raises(ValueError, match="out of range"):
            model.forward_intermediates(x, indices=bad)
    model.prune_intermediate_layers([1], prune_norm=True)
    assert len(model.stages) == 2 and len(model.pyramid_channels) == 2
    with torch.no_grad():
        feats = model.forward_features(x)
    assert feats.shape[1] == model.pyramid_channels[-1] == model.num_features
    torch.testing.assert_close(feats, taps[1])  # features end at the kept stage's pyramid map


def test_group_matcher_puts_every_parameter_in_stem_or_blocks(name):
    model = build(name)
    matcher = model.group_matcher()
    assert set(matcher) >= {"stem", "blocks"}
    groups = group_parameters(model, matcher)  # group id -> names; raises nothing for unmatched
    grouped = {n for names in groups.values() for n in names}
    assert grouped == {n for n, _ in model.named_parameters()}
    stem = group_parameters(model, {"stem": matcher["stem"]})
    assert stem and all(names for names in stem.values())


def test_no_weight_decay_names_exist(name):
    model = build(name)
    params = {n for n, _ in model.named_parameters()}
    assert model.no_weight_decay() <= params


def test_checkpoint_round_trip_through_the_checkpoint_module(name, tmp_path):
    src = build(name).eval()
    path = tmp_path / "ckpt.pth"
    torch.save({"model": src.state_dict(), "epoch": 3}, path)
    dst = build(name, num_classes=7).eval()
    with torch.no_grad():  # built from the same seed: wipe it, so equal outputs show the load
        for p in dst.parameters():
            p.zero_()
    report = load_pretrained(dst, path)
    assert not report.missing and not report.unexpected and not report.dropped
    x = torch.randn(1, 3, *SIZE)
    with torch.no_grad():
        torch.testing.assert_close(dst(x), src(x), atol=0, rtol=0)
    other_head = build(name, num_classes=3)
    report = load_pretrained(other_head, path)
    assert sorted(report.dropped) == [f"{p}.{w}" for p in ("head",) for w in ("bias", "weight")]


def test_encoder_blocks_follow_the_calling_convention(name):
    """Every encoder block gets ``(B*T, L, C)`` and ``num_frames`` and returns the same shape."""
    model = build(name).eval()
    calls = []

    def hook(module, args, out):
        calls.append((tuple(args[0].shape), args[1], tuple(out.shape)))

    blocks = model.encoder_blocks()
    assert len(blocks) == sum(len(s.blocks) for s in model.stages) > 0
    handles = [b.register_forward_hook(hook) for _, b in blocks]
    with torch.no_grad():
        model.forward_features(torch.randn(6, 3, *SIZE), num_frames=3)
    for h in handles:
        h.remove()
    assert len(calls) == len(blocks)
    for x_shape, num_frames, out_shape in calls:
        assert len(x_shape) == 3 and x_shape[0] == 6 and num_frames == 3 and out_shape == x_shape


@pytest.mark.video
def test_video_wrapper_frame_stable_layout(name):
    """A clip of identical frames through a video model with a *non-zero* temporal branch (and no temporal
    position embedding) gives identical per-frame features: token l means the same position in every
    frame, so attention over time mixes equal tokens. At init the video model equals the image model per
    frame."""
    from video.models import DividedSpaceTimeBlock, VideoTransformer

    image = build(name).eval()
    frame = torch.randn(1, 3, *SIZE)
    with torch.no_grad():
        ref = image.forward_features(frame)
    video = VideoTransformer(build(name), num_frames=3).eval()
    clip = frame.unsqueeze(2).expand(1, 3, 3, *SIZE).contiguous()
    with torch.no_grad():
        torch.testing.assert_close(video.forward_features(clip)[:, 1], ref, atol=1e-5, rtol=1e-4)
        for m in video.modules():
            if isinstance(m, DividedSpaceTimeBlock):
                m.temporal.temporal_fc.weight.normal_(std=0.2)
                m.temporal.pos_embed.zero_()  # frame order would (rightly) tell identical frames apart
        feats = video.forward_features(clip)  # B, T, C, h, w
    assert (feats[:, 0] - ref).abs().max() > 1e-4  # the temporal branch is active
    torch.testing.assert_close(feats[:, 1], feats[:, 0], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(feats[:, 2], feats[:, 0], atol=1e-5, rtol=1e-4)


@pytest.mark.det
def test_detection_adapter_output_shape_matches_forward(name):
    from lgvit_det import LGViTBackbone

    backbone = LGViTBackbone(lgvit.create_model(name, num_classes=0, out_norms=True)).eval()
    shapes = backbone.output_shape()
    with torch.no_grad():
        out = backbone(torch.randn(1, 3, 64, 96))
    assert list(out) == ["res2", "res3", "res4", "res5"]
    for k, v in out.items():
        assert v.shape == (1, shapes[k].channels, 64 // shapes[k].stride, 96 // shapes[k].stride)
