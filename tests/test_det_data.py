"""The synthetic COCO-format datasets: deterministic, varied (odd sizes, grayscale, empty, tiny, JPEG and
PNG), valid annotations, registered by name, loadable by Detectron2's mapper; missing data -> clear error."""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp

import numpy as np
import pytest
from detectron2.data import DatasetCatalog, DatasetMapper, MetadataCatalog
from detectron2.data import transforms as T
from detectron2.data.detection_utils import create_keypoint_hflip_indices
from lgvit_det.augment import multiscale_augmentations
from lgvit_det.datasets import (
    SHAPES_SPLITS,
    checked_dataset_dicts,
    coco_evaluator,
    ensure_dataset,
    register_shapes,
)
from lgvit_det.shapes import KEYPOINT_NAMES, OBJECT_CLASSES, SplitSpec, write_split
from PIL import Image

SMALL = SplitSpec("instances", 6, seed=7, tiny=True)
SMALL_KP = SplitSpec("keypoints", 6, seed=8, tiny=True)


def digest(root, name) -> str:
    h = hashlib.sha256((root / f"{name}.json").read_bytes())
    for f in sorted((root / name).iterdir()):
        h.update(f.read_bytes())
    return h.hexdigest()


def test_generation_is_deterministic(tmp_path):
    write_split(tmp_path / "a", "s", SMALL)
    write_split(tmp_path / "b", "s", SMALL)
    assert digest(tmp_path / "a", "s") == digest(tmp_path / "b", "s")
    before = (tmp_path / "a" / "s.json").stat().st_mtime_ns
    write_split(tmp_path / "a", "s", SMALL)  # cached: not rewritten
    assert (tmp_path / "a" / "s.json").stat().st_mtime_ns == before


def _write(root):
    write_split(root, "race", SMALL)


def test_concurrent_writers_agree(tmp_path):
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_write, args=(tmp_path,)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    write_split(tmp_path / "ref", "race", SMALL)
    assert digest(tmp_path, "race") == digest(tmp_path / "ref", "race")


@pytest.mark.parametrize("spec", [SMALL, SMALL_KP], ids=["instances", "keypoints"])
def test_split_contents(tmp_path, spec):
    json_file, image_root = write_split(tmp_path, "s", spec)
    data = json.loads(json_file.read_text())
    images = {im["id"]: im for im in data["images"]}
    sizes = [(im["height"], im["width"]) for im in data["images"]]
    assert len(set(sizes)) > 3 and any(h % 32 or w % 32 for h, w in sizes)
    assert (56, 40) in sizes  # the tiny image
    suffixes = {im["file_name"].rsplit(".", 1)[1] for im in data["images"]}
    assert suffixes == {"png", "jpg"}
    modes = {Image.open(image_root / im["file_name"]).mode for im in data["images"]}
    assert modes == {"RGB", "L"}  # one grayscale image
    annotated = {a["image_id"] for a in data["annotations"]}
    assert len(annotated) < len(images)  # at least one image without annotations
    for im in data["images"]:
        with Image.open(image_root / im["file_name"]) as f:
            assert f.size == (im["width"], im["height"])
    for a in data["annotations"]:
        im = images[a["image_id"]]
        x, y, w, h = a["bbox"]
        assert (
            0 <= x
            and 0 <= y
            and x + w <= im["width"] + 1e-6
            and y + h <= im["height"] + 1e-6
            and w > 2
            and h > 2
        )
        poly = np.array(a["segmentation"][0]).reshape(-1, 2)
        assert (poly >= [x - 0.01, y - 0.01]).all() and (poly <= [x + w + 0.01, y + h + 0.01]).all()
        assert a["area"] > 0 and a["iscrowd"] == 0
        if spec.kind == "keypoints":
            kp = np.array(a["keypoints"]).reshape(-1, 3)
            assert len(kp) == len(KEYPOINT_NAMES) == a["num_keypoints"] and (kp[:, 2] == 2).all()
            assert ((kp[:, :2] >= [x, y]) & (kp[:, :2] <= [x + w, y + h])).all()
    cats = [c["name"] for c in data["categories"]]
    assert cats == (list(OBJECT_CLASSES) if spec.kind == "instances" else ["person"])


def test_registered_names_metadata_and_mapper(tmp_path):
    register_shapes(tmp_path)
    try:
        assert set(SHAPES_SPLITS) <= set(DatasetCatalog.list())
        meta = MetadataCatalog.get("shapes_kp_train")
        assert meta.keypoint_names == list(KEYPOINT_NAMES) and len(meta.keypoint_oks_sigmas) == 5
        flip = create_keypoint_hflip_indices(["shapes_kp_train"])
        assert list(flip) == [0, 2, 1, 4, 3]
        dicts = checked_dataset_dicts("shapes_val", filter_empty=False)
        assert len(dicts) == SHAPES_SPLITS["shapes_val"].num_images
        mapper = DatasetMapper(
            is_train=True,
            augmentations=[T.ResizeShortestEdge((64,), max_size=96, sample_style="choice")],
            image_format="RGB",
            use_instance_mask=True,
        )
        for d in dicts:  # grayscale, empty and tiny images all map to 3-channel tensors
            out = mapper(d)
            assert out["image"].shape[0] == 3 and min(out["image"].shape[1:]) >= 44
        kp_dicts = checked_dataset_dicts("shapes_kp_train", min_keypoints=1)
        assert all(d["annotations"] for d in kp_dicts)
        evaluator = coco_evaluator("shapes_kp_val")
        assert list(evaluator._kpt_oks_sigmas) == list(meta.keypoint_oks_sigmas)
    finally:
        register_shapes()


def test_multiscale_augmentation_keeps_boxes_inside(tmp_path):
    register_shapes(tmp_path)
    try:
        mapper = DatasetMapper(
            is_train=True,
            augmentations=multiscale_augmentations(
                scales=(96, 128), max_size=160, crop_resize=(80,), crop_range=(48, 72)
            ),
            image_format="RGB",
            use_instance_mask=True,
            recompute_boxes=True,
        )
        np.random.seed(0)
        for d in checked_dataset_dicts("shapes_train")[:6]:
            for _ in range(3):
                out = mapper(d)
                h, w = out["image"].shape[1:]
                assert min(h, w) in (96, 128) or max(h, w) == 160
                boxes = out["instances"].gt_boxes.tensor
                assert (boxes[:, 2:] <= boxes.new_tensor([w, h]) + 1e-3).all()
    finally:
        register_shapes()


def test_missing_and_unknown_datasets_give_clear_errors(tmp_path, monkeypatch):
    from detectron2.data.datasets import register_coco_instances

    register_coco_instances("lgvit_test_missing", {}, str(tmp_path / "no.json"), str(tmp_path / "imgs"))
    try:
        with pytest.raises(FileNotFoundError, match="json_file .*no.json does not exist.*shapes"):
            ensure_dataset("lgvit_test_missing")
    finally:
        DatasetCatalog.remove("lgvit_test_missing")
        MetadataCatalog.remove("lgvit_test_missing")
    with pytest.raises(KeyError, match="not registered.*shapes_train"):
        ensure_dataset("shapes_trian")


def test_polygon_clipping_without_shapely():
    from lgvit_det.augment import ClippingCrop, clip_polygon

    square = np.array([[-5, -5], [5, -5], [5, 5], [-5, 5]], dtype=float)
    clipped = clip_polygon(square, 10, 10)
    assert sorted(map(tuple, clipped.round(6))) == [(0, 0), (0, 5), (5, 0), (5, 5)]
    assert len(clip_polygon(square + 100, 10, 10)) == 0
    crop = ClippingCrop(2, 3, 4, 4)
    (poly,) = crop.apply_polygons([np.array([[0, 0], [10, 0], [10, 10], [0, 10]], dtype=float)])
    xs, ys = poly[:, 0], poly[:, 1]
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (0, 4, 0, 4)
    assert crop.apply_polygons([np.array([[50, 50], [60, 50], [60, 60]], dtype=float)]) == []
