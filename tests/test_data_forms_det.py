"""Awkward detection/segmentation files as users have them (issue 23): a COCO json with a byte-order mark
and CRLF line ends, a truncated json, duplicated category names, a keypoint config on COCO data without
keypoints, and 16-bit PNG images (range kept in segmentation, refused clearly in detection)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import numpy as np
import pytest
from detectron2.config import instantiate
from detectron2.data import DatasetMapper, MetadataCatalog
from detectron2.data.datasets import register_coco_instances
from lgvit_det.checks import DataModelMismatch, ImageErrorNamingMapper, UnreadableImageError, read_image
from lgvit_det.datasets import checked_dataset_dicts, coco_evaluator
from lgvit_det.engine import load_config
from lgvit_det.seg_data import SemSegMapper
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
KP_CFG = REPO / "configs" / "COCO" / "keypoint_rcnn_regionvit_s_1x.py"
H, W = 40, 48


def _coco(root: Path, categories=("cat", "dog"), keypoints: bool = False) -> dict:
    (root / "img").mkdir(parents=True, exist_ok=True)
    images, anns = [], []
    for i in range(2):
        Image.fromarray(np.full((H, W, 3), 60 * i, np.uint8)).save(root / "img" / f"{i}.png")
        images.append({"id": i + 1, "file_name": f"{i}.png", "height": H, "width": W})
        ann = {"id": i + 1, "image_id": i + 1, "category_id": 1, "bbox": [4.0, 4.0, 20.0, 16.0], "iscrowd": 0}
        ann["area"] = 320.0
        if keypoints:
            ann.update(keypoints=[10, 10, 2, 14, 12, 2], num_keypoints=2)
        anns.append(ann)
    cats = [{"id": k + 1, "name": n} for k, n in enumerate(categories)]
    return {"images": images, "annotations": anns, "categories": cats}


def _register(root: Path, data: dict, text: str | None = None, **meta) -> str:
    name = f"user_{uuid.uuid4().hex[:8]}"
    (root / f"{name}.json").write_bytes((text if text is not None else json.dumps(data)).encode("utf-8"))
    register_coco_instances(name, meta, str(root / f"{name}.json"), str(root / "img"))
    return name


def test_coco_json_with_byte_order_mark_and_crlf_loads_and_evaluates(tmp_path):
    data = _coco(tmp_path)
    text = "\ufeff" + json.dumps(data, indent=2).replace("\n", "\r\n")
    name = _register(tmp_path, data, text)
    dicts = checked_dataset_dicts(name)
    assert [d["file_name"].rsplit("/", 1)[1] for d in dicts] == ["0.png", "1.png"]
    assert MetadataCatalog.get(name).thing_classes == ["cat", "dog"]
    evaluator = coco_evaluator(name, output_dir=str(tmp_path / "eval"))
    assert sorted(evaluator._coco_api.getImgIds()) == [1, 2]


def test_truncated_coco_json_is_named(tmp_path):
    text = json.dumps(_coco(tmp_path))
    name = _register(tmp_path, {}, text[: len(text) // 2])
    with pytest.raises(
        ValueError, match=rf"dataset '{name}': annotation file .*{name}\.json is not valid JSON"
    ):
        checked_dataset_dicts(name)


def test_duplicate_category_names_are_refused(tmp_path):
    name = _register(tmp_path, _coco(tmp_path, categories=("cat", "dog", "cat")))
    with pytest.raises(ValueError, match=r"names 1 categor\(ies\) more than once: 'cat'"):
        checked_dataset_dicts(name)


def test_keypoint_config_on_coco_data_without_keypoints_is_refused_as_promised(tmp_path):
    """RELIABILITY.md: a keypoint head on data without keypoint metadata is refused with the metadata to
    register (this used to end in Detectron2's 'No valid data found')."""
    name = _register(tmp_path, _coco(tmp_path))
    cfg = load_config(str(KP_CFG), [f"dataloader.train.dataset.names={name}"])
    assert cfg.dataloader.train.dataset.min_keypoints == 1
    with pytest.raises(
        DataModelMismatch, match=rf"dataset '{name}' has no keypoint_names / keypoint_flip_map"
    ):
        instantiate(cfg.dataloader.train.dataset)
    # metadata registered, but the json holds no keypoints (an instances json by mistake)
    meta = dict(keypoint_names=["a", "b"], keypoint_flip_map=[])
    name = _register(tmp_path, _coco(tmp_path), **meta)
    with pytest.raises(DataModelMismatch, match=rf"no annotation of dataset '{name}' has keypoints"):
        checked_dataset_dicts(name, min_keypoints=1)
    # with keypoints it loads
    name = _register(tmp_path, _coco(tmp_path, keypoints=True), **meta)
    assert len(checked_dataset_dicts(name, min_keypoints=1)) == 2


def _png16(path: Path) -> np.ndarray:
    values = np.linspace(0, 65535, H * W).round().astype(np.uint16).reshape(H, W)
    Image.fromarray(values).save(path)
    with Image.open(path) as im:
        assert im.mode.startswith("I")  # really a 16-bit greyscale PNG
    return values


def test_16bit_png_keeps_its_range_in_segmentation_and_is_refused_in_detection(tmp_path):
    values = _png16(tmp_path / "img16.png")
    want = np.rint(values.astype(np.float64) * 255 / 65535).astype(np.uint8)
    rgb = read_image(str(tmp_path / "img16.png"), "RGB")
    assert rgb.shape == (H, W, 3) and rgb.dtype == np.uint8
    np.testing.assert_array_equal(rgb[..., 0], want)
    assert rgb.min() == 0 and rgb.max() == 255
    # the segmentation mapper reads with it (Detectron2's reader made every pixel 255)
    Image.fromarray(np.zeros((H, W), np.uint8)).save(tmp_path / "label.png")
    mapper = SemSegMapper(is_train=False, augmentations=[], image_format="RGB", num_classes=3)
    out = mapper(
        dict(
            file_name=str(tmp_path / "img16.png"),
            sem_seg_file_name=str(tmp_path / "label.png"),
            height=H,
            width=W,
        )
    )
    np.testing.assert_array_equal(out["image"][0].numpy(), want)
    # detection: Detectron2's DatasetMapper reads the file itself, so the image is refused with the fix
    det = ImageErrorNamingMapper(DatasetMapper(is_train=False, augmentations=[], image_format="RGB"))
    with pytest.raises(
        UnreadableImageError, match=r"img16\.png has more than 8 bits per pixel .* Convert it"
    ):
        det(dict(file_name=str(tmp_path / "img16.png"), height=H, width=W, image_id=1))
    Image.fromarray(want).save(tmp_path / "img8.png")  # an 8-bit image passes through unchanged
    assert det(dict(file_name=str(tmp_path / "img8.png"), height=H, width=W, image_id=1))["image"].shape == (
        3,
        H,
        W,
    )
