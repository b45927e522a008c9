"""Divided space-time video model: equality with the image model at init, checkpoint loading,
Table 7 parameter/FLOP targets, temporal behaviour."""

from __future__ import annotations

import copy

import pytest
import torch
from conftest import OFFICIAL_DIR

import lgvit
from lgvit.flops import count_flops, count_params
from lgvit.models.regionvit_official import official_config_to_kwargs
from video.models import (
    DividedSpaceTimeBlock,
    VideoTransformer,
    build_video_model,
    frames_to_positions,
    load_image_checkpoint,
    positions_to_frames,
)

TINY = dict(dims=(32, 64), depths=(1, 2), heads=(2, 4), window=4, stem_convs=1)


def spacetime_blocks(model: torch.nn.Module) -> list[DividedSpaceTimeBlock]:
    return [m for m in model.modules() if isinstance(m, DividedSpaceTimeBlock)]


def per_frame_logits(image_model: torch.nn.Module, clip: torch.Tensor) -> torch.Tensor:
    """Image model on every frame of ``(B, C, T, H, W)``, logits averaged over frames."""
    B, C, T, H, W = clip.shape
    frames = clip.transpose(1, 2).reshape(B * T, C, H, W)
    return image_model(frames).view(B, T, -1).mean(1)


@pytest.mark.parametrize("size", [(32, 32), (40, 56)])  # the second needs region padding
def test_video_equals_image_model_at_init(size):
    image = lgvit.RegionViT(num_classes=5, **TINY).eval()
    video = VideoTransformer(copy.deepcopy(image), num_frames=4).eval()
    clip = torch.randn(2, 3, 4, *size)
    with torch.no_grad():
        torch.testing.assert_close(video(clip), per_frame_logits(image, clip), atol=1e-5, rtol=1e-5)


def test_registered_backbone_equals_image_model_at_init():
    image = lgvit.create_model("regionvit_ti", num_classes=3).eval()
    video = VideoTransformer(copy.deepcopy(image), num_frames=2).eval()
    clip = torch.randn(1, 3, 2, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(video(clip), per_frame_logits(image, clip), atol=1e-5, rtol=1e-5)


def test_every_block_is_wrapped_and_every_parameter_gets_a_gradient():
    model = build_video_model("regionvit_ti", num_classes=4, num_frames=4, drop_path_rate=0.0, **TINY)
    assert len(spacetime_blocks(model)) == sum(TINY["depths"])
    assert all(isinstance(b, DividedSpaceTimeBlock) for s in model.backbone.stages for b in s.blocks)
    # move temporal parts off zero so that all their parameters receive gradients
    with torch.no_grad():
        for blk in spacetime_blocks(model):
            blk.temporal.temporal_fc.weight.normal_(std=0.1)
    model(torch.randn(2, 3, 4, 32, 32)).sum().backward()
    no_grad = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    # classification reads regional tokens only, and the last block's relative-position bias acts only
    # between local tokens: it gets no gradient in the image model either
    assert no_grad == ["backbone.stages.1.blocks.1.spatial.rel_pos"]


def test_position_layout_round_trip_and_meaning():
    B, T, L, C = 2, 3, 20, 6
    x = torch.randn(B * T, L, C)
    pos = frames_to_positions(x, T)
    assert pos.shape == (B * L, T, C)
    torch.testing.assert_close(positions_to_frames(pos, L), x)
    # sequence of (b=1, l=13) is that token position in frames 0..T-1
    ref = x.view(B, T, L, C)[1, :, 13]
    torch.testing.assert_close(pos[1 * L + 13], ref)


def test_temporal_model_sees_frame_order_and_ablation_does_not():
    torch.manual_seed(0)
    temporal = build_video_model(
        "regionvit_ti", num_classes=4, num_frames=4, drop_path_rate=0.0, **TINY
    ).eval()
    with torch.no_grad():
        for blk in spacetime_blocks(temporal):
            blk.temporal.temporal_fc.weight.normal_(std=0.2)
    ablation = build_video_model(
        "regionvit_ti", num_classes=4, num_frames=4, space_time="space", drop_path_rate=0.0, **TINY
    ).eval()
    assert not spacetime_blocks(ablation)
    clip = torch.randn(1, 3, 4, 32, 32)
    with torch.no_grad():
        assert (temporal(clip) - temporal(clip.flip(2))).abs().max() > 1e-3
        torch.testing.assert_close(ablation(clip), ablation(clip.flip(2)), atol=1e-5, rtol=1e-5)


def test_other_clip_lengths_interpolate_temporal_position_embedding():
    model = build_video_model("regionvit_ti", num_classes=4, num_frames=8, **TINY).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 3, 4, 32, 32)).shape == (1, 4)


def test_bad_clip_shape_is_explained():
    model = build_video_model("regionvit_ti", num_classes=4, num_frames=4, **TINY)
    with pytest.raises(ValueError, match=r"\(B, 3, T, H, W\)"):
        model(torch.randn(2, 3, 32, 32))


def test_no_weight_decay_covers_temporal_position_embedding():
    from lgvit_engine.optim import no_decay_names

    model = build_video_model("regionvit_ti", num_classes=4, num_frames=4, **TINY)
    names = no_decay_names(model)
    assert "backbone.stages.0.blocks.0.temporal.pos_embed" in names
    assert "backbone.stages.0.blocks.0.spatial.rel_pos" in names
    assert "backbone.stages.0.blocks.0.temporal.attn.qkv.weight" not in names


@pytest.mark.skipif(
    not (OFFICIAL_DIR / "regionvit_official_b.pt").is_file(), reason="official test data missing"
)
def test_official_checkpoint_loads_with_temporal_parts_missing_and_extras_reported():
    case = torch.load(OFFICIAL_DIR / "regionvit_official_b.pt", weights_only=True)
    image = lgvit.regionvit_from_official(case["config"], case["state_dict"]).eval()
    kwargs = official_config_to_kwargs(case["config"])  # same architecture, without the detection norms
    video = VideoTransformer(lgvit.RegionViT(**kwargs), num_frames=3).eval()
    report = load_image_checkpoint(video, case["state_dict"])
    assert report.missing and all(".temporal." in k for k in report.missing)
    assert len(report.missing) == 9 * sum(kwargs["depths"])  # norm, qkv, proj, fc (weight + bias), pos_embed
    blk = video.backbone.stages[2].blocks[1]  # temporal attention starts from the pretrained spatial one
    torch.testing.assert_close(blk.temporal.attn.qkv.weight, blk.spatial.attn.qkv.weight)
    assert not blk.temporal.temporal_fc.weight.any()
    assert sorted(report.unexpected) == sorted(
        f"backbone.det_norms.{i}.{p}" for i in range(4) for p in ("weight", "bias")
    )
    clip = torch.randn(1, 3, 3, 64, 48)
    with torch.no_grad():
        torch.testing.assert_close(video(clip), per_frame_logits(image, clip), atol=1e-5, rtol=1e-5)


def test_image_checkpoint_with_other_head_size_drops_head():
    image = lgvit.RegionViT(num_classes=1000, **TINY)
    video = build_video_model("regionvit_ti", num_classes=4, num_frames=2, **TINY)
    report = load_image_checkpoint(video, image.state_dict())
    assert report.dropped == ["backbone.head.bias", "backbone.head.weight"]


def test_checkpoint_of_another_variant_is_refused():
    image = lgvit.RegionViT(num_classes=4, dims=(32, 64), depths=(1, 1), heads=(2, 4), window=4, stem_convs=1)
    video = build_video_model("regionvit_ti", num_classes=4, num_frames=2, **TINY)
    with pytest.raises(ValueError, match="does not fit the video model's backbone"):
        load_image_checkpoint(video, image.state_dict())


def test_joint_baseline_with_one_frame_is_the_image_model():
    image = lgvit.RegionViT(num_classes=5, **TINY).eval()
    joint = VideoTransformer(copy.deepcopy(image), num_frames=1, space_time="joint").eval()
    x = torch.randn(2, 3, 1, 40, 56)
    with torch.no_grad():
        torch.testing.assert_close(joint(x), image(x[:, :, 0]), atol=1e-5, rtol=1e-5)


def test_joint_attention_attends_across_frames_of_each_group():
    """Joint space-time attention of one region over 2 frames equals attention over the concatenated
    tokens (independent reference), and is not per-frame attention."""
    from lgvit.layers import Attention
    from video.models import JointSpaceTimeAttention

    attn = Attention(8, 2).eval()
    joint = JointSpaceTimeAttention(attn)
    B, T, G, N = 2, 2, 3, 5
    x = torch.randn(B * T * G, N, 8)
    with torch.no_grad():
        out = joint(x, None, T, G).view(B, T, G, N, 8)
        xs = x.view(B, T, G, N, 8)
        ref = attn(xs[1, :, 2].reshape(1, T * N, 8)).view(T, N, 8)  # clip 1, group 2, both frames at once
        torch.testing.assert_close(out[1, :, 2], ref, atol=1e-6, rtol=1e-5)
        per_frame = attn(x).view(B, T, G, N, 8)
        assert (out - per_frame).abs().max() > 1e-3


# RegionViT Table 7 (K400, 400 classes, one 8x224x224 clip): params within 2%, FLOPs within 5%.
TABLE7 = {"regionvit_s": (42.9, 59.4), "regionvit_m": (57.5, 83.1)}


@pytest.mark.parametrize("name", sorted(TABLE7))
def test_params_match_table7(name):
    model = build_video_model(name, num_classes=400, num_frames=8)
    params = count_params(model) / 1e6
    assert abs(params - TABLE7[name][0]) / TABLE7[name][0] < 0.02, params


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TABLE7))
def test_flops_match_table7(name):
    model = build_video_model(name, num_classes=400, num_frames=8).eval()
    gflops = count_flops(model, torch.randn(1, 3, 8, 224, 224)) / 1e9
    assert abs(gflops - TABLE7[name][1]) / TABLE7[name][1] < 0.05, gflops


def test_benchmark_measures_both_attention_kinds():
    from lgvit_tools.video_benchmark import measure  # tools/ is on sys.path (tests/conftest.py)

    rows = [
        measure(kind, "regionvit_ti", batch=1, frames=2, size=32, steps=1, device="cpu")
        for kind in ("divided", "joint")
    ]
    assert [r["model"] for r in rows] == ["divided", "joint"]
    assert rows[0]["params_m"] > rows[1]["params_m"]  # the joint baseline has no temporal attention modules
    assert all(r["clips_per_s"] > 0 and r["peak_mem_mb"] >= 0 for r in rows)


@pytest.mark.parametrize(
    "family, attention, kwargs",
    [("salg_st", "LocalGlobalBlock", {"pads": (1,)}), ("rsir_t", "RSIRBlock", {})],
)
def test_joint_space_time_refuses_families_with_their_own_attention(family, attention, kwargs):
    """SALG and RSIR apply their attention weights to their own token groups (coverage areas, permuted
    windows): joint attention over frames is not defined there, and saying so beats an AttributeError."""
    with pytest.raises(ValueError, match=f"is a {attention}: use space_time='divided'"):
        build_video_model(family, num_classes=4, num_frames=2, space_time="joint", dims=(32, 64),
                          depths=(1, 1), heads=(2, 2), **kwargs)  # fmt: skip
