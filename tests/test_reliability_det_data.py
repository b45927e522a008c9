"""Issue 12 on detection data: every COCO mask encoding trains with the shipped configs (item 2),
dataset/model mismatches are refused before training with the fix (item 3), an unreadable image is named
(item 6). All on a small COCO-format dataset generated here."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pycocotools.mask as mask_util
import pytest
from detectron2.config import instantiate
from detectron2.data import DatasetCatalog, MetadataCatalog
from detectron2.data.datasets import register_coco_instances
from lgvit_det.checks import DataModelMismatch, ImageErrorNamingMapper, UnreadableImageError, check_model_data
from lgvit_det.datasets import checked_dataset_dicts
from lgvit_det.engine import load_config
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
MASK_CFG = REPO / "configs" / "shapes" / "mask_rcnn_regionvit_tiny_shapes.py"
KP_CFG = REPO / "configs" / "shapes" / "keypoint_rcnn_regionvit_tiny_shapes.py"
H = W = 64


def square(x0: int, y0: int, s: int) -> np.ndarray:
    m = np.zeros((H, W), np.uint8)
    m[y0 : y0 + s, x0 : x0 + s] = 1
    return m


def uncompressed_rle(mask: np.ndarray) -> dict:
    flat = mask.flatten(order="F")  # COCO RLE is column-major, runs start with zeros
    counts, cur, run = [], 0, 0
    for v in flat:
        if v != cur:
            counts.append(run)
            cur, run = v, 0
        run += 1
    counts.append(run)
    return {"size": [H, W], "counts": counts}


def write_coco(root: Path, name: str, truncated: bool = False) -> tuple[str, dict[int, np.ndarray]]:
    """3 images; objects with a polygon, a compressed RLE, an uncompressed RLE, and a crowd RLE mask.
    With ``truncated`` the third image is a truncated JPEG. Returns (json path, {ann id: mask})."""
    (root / "img").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    images, anns, masks = [], [], {}
    for i in range(3):
        f = root / "img" / f"{i}.jpg"
        Image.fromarray(rng.integers(0, 255, (H, W, 3), dtype=np.uint8)).save(f, quality=95)
        images.append({"id": i + 1, "file_name": f.name, "height": H, "width": W})
    if truncated:
        data = (root / "img" / "2.jpg").read_bytes()
        (root / "img" / "2.jpg").write_bytes(data[: len(data) // 2])
    m_rle, m_unc, m_crowd = square(30, 5, 20), square(5, 35, 16), square(40, 40, 20)
    m_rle[10:14, 35:39] = 0  # a hole
    rle = mask_util.encode(np.asfortranarray(m_rle))
    rle["counts"] = rle["counts"].decode()
    segs = [
        (1, [[5.0, 5.0, 25.0, 5.0, 25.0, 25.0, 5.0, 25.0]], 0, square(5, 5, 20)),
        (2, rle, 0, m_rle),
        (3, uncompressed_rle(m_unc), 0, m_unc),
        (1, uncompressed_rle(m_crowd), 1, m_crowd),
    ]
    for cat, seg, crowd, m in segs:
        ys, xs = np.nonzero(m)
        box = [
            float(xs.min()),
            float(ys.min()),
            float(xs.max() - xs.min() + 1),
            float(ys.max() - ys.min() + 1),
        ]
        for img in (1, 2, 3):
            aid = len(anns) + 1
            anns.append(
                {
                    "id": aid,
                    "image_id": img,
                    "category_id": cat,
                    "bbox": box,
                    "area": float(m.sum()),
                    "iscrowd": crowd,
                    "segmentation": seg,
                }
            )
            if not crowd:
                masks[cat - 1] = m  # detectron2's contiguous class id
    cats = [{"id": 1, "name": "circle"}, {"id": 2, "name": "square"}, {"id": 3, "name": "triangle"}]
    path = root / f"{name}.json"
    path.write_text(json.dumps({"images": images, "annotations": anns, "categories": cats}))
    if name in DatasetCatalog.list():
        DatasetCatalog.remove(name)
        MetadataCatalog.remove(name)
    register_coco_instances(name, {}, str(path), str(root / "img"))
    return str(path), masks


def test_item2_every_coco_mask_encoding_trains_with_the_shipped_mapper(tmp_path):
    _, masks = write_coco(tmp_path, "rel_masks")
    cfg = load_config(str(MASK_CFG))
    mapper = instantiate(cfg.dataloader.train.mapper)  # the shipped one: mask_format="polygon"
    mapper.augmentations.augs = []  # no resize/flip: masks compared pixel by pixel
    dicts = checked_dataset_dicts("rel_masks")
    assert {
        type(a["segmentation"]).__name__ for d in dicts for a in d["annotations"] if not a["iscrowd"]
    } == {"list"}
    for d in dicts:
        out = mapper(dict(d))
        inst = out["instances"]
        assert len(inst) == 3  # the crowd region is not a training instance
        got = inst.gt_masks.polygons
        noncrowd = [a for a in d["annotations"] if not a["iscrowd"]]
        for polys, a in zip(got, noncrowd, strict=True):
            want = masks[a["category_id"]]
            rle = mask_util.frPyObjects([list(p) for p in polys], H, W)
            have = mask_util.decode(mask_util.merge(rle))
            iou = (have & want).sum() / (have | want).sum()
            assert iou > 0.85, (a["category_id"], iou)  # outline kept (the hole of the RLE mask is filled)


def test_item3_class_and_keypoint_mismatches_are_refused_with_the_fix(tmp_path):
    write_coco(tmp_path, "rel_classes")
    DatasetCatalog.get("rel_classes")  # loading sets thing_classes, as the train loader does
    cfg = load_config(str(MASK_CFG), ["model.roi_heads.num_classes=2"])
    with pytest.raises(DataModelMismatch, match=r"num_classes=2 but.*3 classes.*num_classes=3"):
        check_model_data(cfg.model, "rel_classes")
    check_model_data(load_config(str(MASK_CFG)).model, "rel_classes")  # 3 == 3
    # a keypoint head on a dataset without keypoint metadata
    kp = load_config(str(KP_CFG))
    with pytest.raises(DataModelMismatch, match="no keypoint_names / keypoint_flip_map"):
        check_model_data(kp.model, "rel_classes")
    # keypoint counts differ (the shapes keypoint data has 5)
    bad = load_config(str(KP_CFG), ["model.roi_heads.keypoint_head.num_keypoints=17"])
    with pytest.raises(DataModelMismatch, match=r"num_keypoints=17 but.*5 keypoints.*num_keypoints=5"):
        check_model_data(bad.model, "shapes_kp_train")
    check_model_data(kp.model, "shapes_kp_train")


def test_item6_truncated_image_is_named(tmp_path):
    write_coco(tmp_path, "rel_truncated", truncated=True)
    cfg = load_config(str(MASK_CFG))
    mapper = ImageErrorNamingMapper(instantiate(cfg.dataloader.train.mapper))
    dicts = checked_dataset_dicts("rel_truncated")
    mapper(dict(dicts[0]))
    with pytest.raises(UnreadableImageError, match=r"cannot read image .*2\.jpg .*truncated"):
        mapper(dict(dicts[2]))


def test_item5_visualiser_names_user_classes_and_skips_unreadable_images(tmp_path, monkeypatch):
    import torch
    from detectron2.structures import Boxes, Instances
    from lgvit_det import visualize

    write_coco(tmp_path, "rel_vis", truncated=True)  # registered, json not loaded yet: no thing_classes
    seen = []

    def draw(image, instances, metadata, score_thresh=0.5):
        seen.append(list(metadata.thing_classes))
        return image

    def predictor(image):
        inst = Instances(image.shape[:2])
        inst.pred_boxes, inst.scores = Boxes(torch.tensor([[1.0, 1, 20, 20]])), torch.tensor([0.9])
        inst.pred_classes = torch.tensor([2])
        return inst

    monkeypatch.setattr(visualize, "draw_predictions", draw)
    (tmp_path / "img" / "notes.png").write_text("not an image")
    skipped = []
    written = visualize.visualize_files(
        predictor, [tmp_path / "img"], tmp_path / "vis", "rel_vis", 0.5, skipped
    )
    assert sorted(p.name for p in written) == ["0.png", "1.png"]  # the others did not stop the folder
    assert sorted(p.name for p, _ in skipped) == ["2.jpg", "notes.png"]
    assert seen == [["circle", "square", "triangle"]] * 2  # names, not class indices


def test_item6_truncated_image_stops_training_naming_it_once(tmp_path, capsys):
    """Through the entry point with a data-loading worker: one ``error:`` line naming the file once, exit 2
    (old code: the message inside the worker's traceback, printed twice)."""
    from lgvit_det.engine import parse_args, run

    write_coco(tmp_path, "rel_truncated_cli", truncated=True)
    argv = [
        "--config-file", str(MASK_CFG), "dataloader.train.dataset.names='rel_truncated_cli'",
        "dataloader.train.num_workers=1", "train.max_iter=4", "train.eval_period=0",
        f"train.output_dir='{tmp_path / 'out'}'", "dataloader.train.total_batch_size=3",
    ]  # fmt: skip
    assert run(parse_args(argv)) == 2
    err = capsys.readouterr().err
    assert err.count("2.jpg") == 1 and "Traceback" not in err
    assert [x for x in err.splitlines() if x.startswith("error:")][0].startswith("error: cannot read image")
