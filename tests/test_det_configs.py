"""Every detection config loads, describes the paper's recipe, and instantiates; parameter counts match
the paper's Table 5 / A4 within 2%."""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path

import pytest
import torch
from detectron2.config import LazyConfig, instantiate
from lgvit_tools.reference import DETECTION_PAPER as PAPER
from lgvit_tools.reference import DETECTION_VARIANTS as VARIANTS

REPO = Path(__file__).resolve().parents[1]
# RegionViT's configs (Tables 5, A4); the other families' configs have their own tests
COCO_CONFIGS = sorted((REPO / "configs" / "COCO").glob("*_regionvit_*.py"))
SHAPES_CONFIGS = sorted((REPO / "configs" / "shapes").glob("*_regionvit_*.py"))
DETECTORS = ("retinanet", "mask_rcnn", "keypoint_rcnn")


def parse(path: Path) -> tuple[str, str, str]:
    """configs/COCO/{detector}_regionvit_{variant}_{schedule}.py -> (detector, variant, schedule)"""
    det = next(d for d in DETECTORS if path.stem.startswith(d + "_regionvit_"))
    variant, schedule = path.stem[len(det + "_regionvit_") :].rsplit("_", 1)
    return det, variant, schedule


@functools.cache
def load(path: Path):
    return LazyConfig.load(str(path))


def build(path: Path, meta: bool = True) -> torch.nn.Module:
    """Instantiates a config's model, on the meta device by default (all constructors run, no memory or
    random init)."""
    cfg = load(path)
    with torch.device("meta") if meta else contextlib.nullcontext():
        return instantiate(cfg.model)


def test_all_variants_and_schedules_exist():
    found = {parse(p) for p in COCO_CONFIGS}
    expected = {(d, v, s) for d in DETECTORS for v in VARIANTS for s in ("1x", "3x")}
    assert found == expected
    assert {p.stem for p in SHAPES_CONFIGS} == {f"{d}_regionvit_tiny_shapes" for d in DETECTORS}


@pytest.mark.parametrize("path", COCO_CONFIGS, ids=lambda p: p.stem)
def test_coco_config_follows_the_paper_recipe(path):
    det, variant, schedule = parse(path)
    cfg = load(path)
    bb = cfg.model.backbone.bottom_up
    assert bb.model.name == VARIANTS[variant]
    assert bb.model.drop_path_rate == 0.2 and bb.model.out_norms is True and bb.freeze_at == 0
    assert cfg.optimizer.lr == 1e-4 and cfg.optimizer.weight_decay == 0.05
    assert cfg.dataloader.train.total_batch_size == 16
    names = cfg.dataloader.train.dataset.names
    assert names == ("keypoints_coco_2017_train" if det == "keypoint_rcnn" else "coco_2017_train")
    steps = cfg.lr_multiplier.scheduler.milestones
    test_resize = cfg.dataloader.test.mapper.augmentations[0]
    assert (test_resize.short_edge_length, test_resize.max_size) == (672, 1120)
    if schedule == "1x":
        assert cfg.train.max_iter == 90000 and list(steps) == [60000, 80000, 90000]
        resize = cfg.dataloader.train.mapper.augmentations[0]
        assert (tuple(resize.short_edge_length), resize.max_size) == ((672,), 1120)
    else:
        assert cfg.train.max_iter == 270000 and list(steps) == [210000, 250000, 270000]
        ms = cfg.dataloader.train.mapper.augmentations
        assert list(ms.scales) == list(range(480, 897, 32)) and ms.max_size == 1120
    if det == "retinanet":
        assert cfg.model.backbone.p6_from == "res5"  # P6/P7 from the last stage (C5)
        assert list(bb.out_features) == ["res3", "res4", "res5"]
    assert cfg.train.output_dir.endswith(path.stem)


@pytest.mark.parametrize("path", COCO_CONFIGS + SHAPES_CONFIGS, ids=lambda p: p.stem)
def test_config_instantiates(path):
    """Model, optimizer (with the no-decay group) and schedule build; output shapes are consistent."""
    cfg = load(path)
    model = build(path, meta=path in COCO_CONFIGS)  # the small shapes models are built for real
    cfg.optimizer.params.model = model
    opt = instantiate(cfg.optimizer)
    assert [g["weight_decay"] for g in opt.param_groups] == [cfg.optimizer.weight_decay, 0.0]
    assert sum(len(g["params"]) for g in opt.param_groups) == len(list(model.parameters()))
    instantiate(cfg.lr_multiplier)
    bottom_up = model.backbone.bottom_up
    for name, spec in bottom_up.output_shape().items():
        assert spec.channels == bottom_up.model.pyramid_channels[int(name[3:]) - 2]


@pytest.mark.parametrize("key", sorted(PAPER), ids=lambda k: f"{k[0]}_{k[1]}")
def test_param_count_matches_paper(key):
    path = REPO / "configs" / "COCO" / f"{key[0]}_regionvit_{key[1]}_1x.py"
    n = sum(p.numel() for p in build(path).parameters()) / 1e6
    paper = PAPER[key].params_m
    assert abs(n - paper) / paper < 0.02, f"{path.stem}: {n:.2f}M vs paper {paper}M"
    assert abs(n - paper) < 0.1  # in fact within rounding of the paper's one decimal


def test_coco_dataset_missing_gives_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("DETECTRON2_DATASETS", str(tmp_path))
    cfg = load(COCO_CONFIGS[0])
    with pytest.raises(FileNotFoundError, match="does not exist.*shapes"):
        instantiate(cfg.dataloader.train.dataset)


def test_meta_build_counts_equal_a_real_build():
    path = REPO / "configs" / "COCO" / "mask_rcnn_regionvit_s_1x.py"
    meta, real = build(path), build(path, meta=False)
    assert [(n, p.shape) for n, p in meta.named_parameters()] == [
        (n, p.shape) for n, p in real.named_parameters()
    ]
    assert next(real.parameters()).device.type == "cpu"


# What our detector configs change in Detectron2's own common model configs (paths into ``cfg.model``);
# everything else (RPN, anchors, ROI heads and poolers, losses, RetinaNet head) is Detectron2's.
OURS = {
    "mask_rcnn": ("common/models/mask_rcnn_fpn.py", {"backbone.bottom_up"}),
    "keypoint_rcnn": ("common/models/keypoint_rcnn_fpn.py", {"backbone.bottom_up"}),
    # P6/P7 from C5 with C5's channel count read from the backbone (lgvit_det.fpn_p6p7)
    "retinanet": ("common/models/retinanet.py", {"backbone"}),
}
INPUT = {"pixel_mean", "pixel_std", "input_format"}  # RGB ImageNet statistics of the lgvit pretraining


def _without(cfg, paths: set[str]) -> dict:
    from omegaconf import OmegaConf

    tree = OmegaConf.to_container(cfg, resolve=False)
    for path in paths:
        *parents, leaf = path.split(".")
        node = tree
        for p in parents:
            node = node[p]
        node.pop(leaf)
    return tree


def _shape_spec_as_dict(tree):
    """Detectron2's configs hold ``ShapeSpec(...)`` objects, a LazyCall of it is the same description."""
    if isinstance(tree, dict):
        tree = {k: _shape_spec_as_dict(v) for k, v in tree.items()}
        if tree.get("_target_") in ("detectron2.layers.ShapeSpec", "detectron2.layers.shape_spec.ShapeSpec"):
            tree.pop("_target_")
        return tree
    if isinstance(tree, list):
        return [_shape_spec_as_dict(v) for v in tree]
    return tree


@pytest.mark.parametrize("det", DETECTORS)
def test_detector_configs_are_deltas_over_detectron2_common_models(det):
    """The COCO detector = Detectron2's common model config with only the bottom-up (RetinaNet: the FPN
    with its P6/P7 source) and the input normalisation replaced; the instantiated heads are the same."""
    from detectron2 import model_zoo

    d2_path, replaced = OURS[det]
    d2 = model_zoo.get_config(d2_path).model
    ours = load(REPO / "configs" / "COCO" / f"{det}_regionvit_s_1x.py").model
    assert _shape_spec_as_dict(_without(ours, replaced | INPUT)) == _shape_spec_as_dict(
        _without(d2, replaced | INPUT)
    )
    assert list(ours.pixel_mean) == [123.675, 116.28, 103.53] and ours.input_format == "RGB"
    heads = ("proposal_generator", "roi_heads") if det != "retinanet" else ("head", "anchor_generator")
    with torch.device("meta"):
        for name in heads:
            a, b = instantiate(ours[name]), instantiate(d2[name])
            assert str(a) == str(b), name
            assert [(k, v.shape) for k, v in a.state_dict().items()] == [
                (k, v.shape) for k, v in b.state_dict().items()
            ], name
