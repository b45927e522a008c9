"""Optimizer groups for whole detectors (no weight decay on norms, biases, rel-pos tables, tokens), the
FLOP counter's attention handle, and the speed benchmark's model pair."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from detectron2.config import instantiate
from lgvit_det import detector_param_groups
from lgvit_det.engine import load_config

REPO = Path(__file__).resolve().parents[1]
SHAPES = {
    d: str(REPO / "configs" / "shapes" / f"{d}_regionvit_tiny_shapes.py") for d in ("mask_rcnn", "retinanet")
}


@pytest.fixture(scope="module")
def mask_rcnn():
    return instantiate(load_config(SHAPES["mask_rcnn"]).model)


def test_no_decay_group_is_exactly_norms_biases_and_relpos(mask_rcnn):
    decay, no_decay = detector_param_groups(mask_rcnn, weight_decay=0.05)
    assert (decay["weight_decay"], no_decay["weight_decay"]) == (0.05, 0.0)
    names = {id(p): n for n, p in mask_rcnn.named_parameters()}
    nd = {names[id(p)] for p in no_decay["params"]}
    d = {names[id(p)] for p in decay["params"]}
    assert nd | d == set(names.values()) and not nd & d
    rel_pos = {n for n in names.values() if n.endswith("rel_pos")}
    assert rel_pos and rel_pos <= nd  # declared by the lgvit model (no_weight_decay), found under its prefix
    assert all(n.startswith("backbone.bottom_up.model.") for n in rel_pos)
    for n, p in mask_rcnn.named_parameters():
        if p.ndim <= 1:
            assert n in nd, n  # norms (lgvit LayerNorms, det norms) and biases everywhere (FPN, heads)
        elif not n.endswith("rel_pos"):
            assert n in d, n  # conv / linear weights
    assert "backbone.bottom_up.model.det_norms.0.weight" in nd
    assert "backbone.fpn_lateral2.weight" in d and "backbone.fpn_lateral2.bias" in nd


def test_frozen_parameters_are_left_out(mask_rcnn):
    for p in mask_rcnn.backbone.bottom_up.model.patch_embed.parameters():
        p.requires_grad_(False)
    try:
        groups = detector_param_groups(mask_rcnn, weight_decay=0.05, base_lr=1e-4)
        n = sum(len(g["params"]) for g in groups)
        assert n == sum(p.requires_grad for p in mask_rcnn.parameters())
        assert all(g["lr"] == 1e-4 for g in groups)
    finally:
        for p in mask_rcnn.backbone.bottom_up.model.patch_embed.parameters():
            p.requires_grad_(True)


def test_detector_flops_count_attention(mask_rcnn):
    """fvcore skips fused attention; our handle counts it (the tiny RetinaNet at 128x160)."""
    from detectron2.utils.analysis import FlopCountAnalysis
    from lgvit_tools.det_complexity import detector_flops

    torch.manual_seed(0)
    model = instantiate(load_config(SHAPES["retinanet"]).model).eval()
    ours = detector_flops(model, 128, 160)
    with torch.no_grad():
        plain = FlopCountAnalysis(model, [{"image": torch.rand(3, 128, 160) * 255}])
        plain.unsupported_ops_warnings(False)
        plain.uncalled_modules_warnings(False)
        without = plain.total() / 1e9
    assert ours["gflops"] > without > 0
    assert 0 < ours["by_module"]["backbone.bottom_up"] < ours["by_module"]["backbone"] <= ours["gflops"]


@pytest.mark.slow
def test_benchmark_runs_both_backbones_under_the_same_heads():
    from lgvit_tools.det_benchmark import run_benchmark

    res = run_benchmark(
        str(REPO / "configs" / "COCO" / "mask_rcnn_regionvit_s_1x.py"), 128, 192, batch=1, iters=1, warmup=0,
        device="cpu",
    )  # fmt: skip
    assert abs(res["regionvit"]["params_m"] - 50.1) < 0.1
    assert abs(res["swin_t"]["params_m"] - 47.8) < 0.1  # Table 5's Swin-T Mask R-CNN
    assert all(r["train_s"] > 0 and r["infer_s"] > 0 for r in res.values())


@pytest.mark.slow
@pytest.mark.parametrize("det", ["retinanet", "mask_rcnn"])
def test_flops_match_table5_at_the_paper_test_size(det):
    """At 1120x672 our count of the RegionViT-S detectors equals Table 5 (192.6 / 171.3 GFLOPs)."""
    from lgvit_tools.det_complexity import detector_flops
    from lgvit_tools.reference import DETECTION_PAPER as PAPER

    torch.manual_seed(0)
    model = instantiate(load_config(str(REPO / "configs" / "COCO" / f"{det}_regionvit_s_1x.py")).model)
    gflops = detector_flops(model, 672, 1120)["gflops"]
    assert gflops == pytest.approx(PAPER[(det, "s")].gflops, rel=0.01)
