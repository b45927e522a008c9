"""Semantic-segmentation data: the synthetic splits, and bad input turned into messages naming the file
(label values outside the classes, image/label size mismatch, missing label files)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("detectron2")

import detectron2.data.transforms as T  # noqa: E402
from detectron2.data import DatasetCatalog, MetadataCatalog  # noqa: E402
from lgvit_det.seg_data import (  # noqa: E402
    SEG_CLASSES,
    SEG_SPLITS,
    SegSplitSpec,
    SemSegMapper,
    checked_sem_seg_dicts,
    load_seg_split,
    write_seg_split,
)

NUM_CLASSES = len(SEG_CLASSES)


@pytest.fixture(scope="module")
def split(tmp_path_factory):
    root = tmp_path_factory.mktemp("segdata")
    return write_seg_split(root, "seg_small", SegSplitSpec(6, seed=3))


def mapper(is_train: bool = False) -> SemSegMapper:
    augs = [T.ResizeShortestEdge(64, 256)] + ([T.RandomCrop("absolute", (64, 64))] if is_train else [])
    return SemSegMapper(is_train, augs, "RGB", num_classes=NUM_CLASSES, ignore_label=255)


def write_pair(tmp_path, label: np.ndarray, size=(40, 30)) -> dict:
    image = tmp_path / "img.png"
    Image.fromarray(np.full((size[1], size[0], 3), 100, np.uint8)).save(image)
    label_file = tmp_path / "lab.png"
    Image.fromarray(label).save(label_file)
    return dict(file_name=str(image), sem_seg_file_name=str(label_file), height=size[1], width=size[0])


def test_synthetic_split_is_deterministic_and_labelled(split, tmp_path):
    dicts = load_seg_split(split)
    assert len(dicts) == 6
    again = write_seg_split(tmp_path, "seg_small", SegSplitSpec(6, seed=3))
    for d in dicts:
        a = np.asarray(Image.open(d["sem_seg_file_name"]))
        b = np.asarray(Image.open(again / "labels" / (d["sem_seg_file_name"].rsplit("/", 1)[1])))
        np.testing.assert_array_equal(a, b)
        assert a.shape == (d["height"], d["width"])
        assert Image.open(d["file_name"]).size == (d["width"], d["height"])
        values = set(np.unique(a).tolist())
        assert values <= {0, 1, 2, 3, 255} and 0 in values and 255 in values
        assert len(values & {1, 2, 3}) >= 1  # every image holds at least one shape
    # every class occurs in the split
    all_values = set().union(*(np.unique(np.asarray(Image.open(d["sem_seg_file_name"]))) for d in dicts))
    assert {0, 1, 2, 3} <= all_values


def test_registered_splits_have_sem_seg_metadata():
    for name in SEG_SPLITS:
        assert name in DatasetCatalog.list()
        meta = MetadataCatalog.get(name)
        assert meta.stuff_classes == list(SEG_CLASSES)
        assert meta.ignore_label == 255 and meta.evaluator_type == "sem_seg"
        assert len(meta.stuff_colors) == NUM_CLASSES


def test_ade20k_is_detectron2s_registration():
    for split in ("train", "val"):
        meta = MetadataCatalog.get(f"ade20k_sem_seg_{split}")
        assert len(meta.stuff_classes) == 150 and meta.ignore_label == 255
        assert "ADEChallengeData2016" in meta.image_root


def test_mapper_output(split):
    d = load_seg_split(split)[0]
    out = mapper(is_train=True)(d)
    assert out["image"].shape == (3, 64, 64) and out["sem_seg"].shape == (64, 64)
    assert str(out["sem_seg"].dtype) == "torch.int64"
    assert "sem_seg_file_name" not in out and out["file_name"] == d["file_name"]
    test = mapper()(d)
    assert min(test["image"].shape[1:]) == 64 and test["image"].shape[1:] == test["sem_seg"].shape


def test_label_values_outside_the_classes_name_the_file(tmp_path):
    label = np.zeros((30, 40), np.uint8)
    label[5, 5] = 7  # 4 classes: 7 is out of range (255 would be fine)
    label[6, 6] = 255
    d = write_pair(tmp_path, label)
    with pytest.raises(ValueError, match=r"lab\.png: values \[7\] are outside the classes 0\.\.3"):
        mapper()(d)
    label[5, 5] = 3
    d = write_pair(tmp_path, label)
    assert mapper()(d)["sem_seg"].max().item() == 255


def test_image_label_size_mismatch_names_both_files(tmp_path):
    d = write_pair(tmp_path, np.zeros((31, 40), np.uint8))
    with pytest.raises(ValueError, match=r"lab\.png is 40x31 \(WxH\) but its image .*img\.png is 40x30"):
        mapper()(d)


def test_missing_label_file_is_named(tmp_path, split):
    d = write_pair(tmp_path, np.zeros((30, 40), np.uint8))
    (tmp_path / "lab.png").unlink()
    with pytest.raises(FileNotFoundError, match=r"label map .*lab\.png of image .*img\.png does not exist"):
        mapper()(d)
    # in a synthetic split: the loader names it
    broken = tmp_path / "broken"
    shutil.copytree(split, broken)
    (broken / "labels" / "0002.png").unlink()
    with pytest.raises(FileNotFoundError, match=r"label map file .*broken/labels/0002\.png is missing"):
        load_seg_split(broken)


def test_rgb_label_maps_are_refused(tmp_path):
    d = write_pair(tmp_path, np.zeros((30, 40, 3), np.uint8))
    with pytest.raises(ValueError, match=r"lab\.png: expected one channel"):
        mapper()(d)


def test_detectron2_style_dataset_without_labels_is_named(tmp_path):
    """Detectron2's ``load_sem_seg`` drops unlabelled images with a warning; checked loading refuses."""
    from detectron2.data.datasets import load_sem_seg

    images, labels = tmp_path / "images", tmp_path / "labels"
    images.mkdir(), labels.mkdir()
    for stem in ("a", "b", "c"):
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(images / f"{stem}.jpg")
        if stem != "b":
            Image.fromarray(np.zeros((8, 8), np.uint8)).save(labels / f"{stem}.png")
    name = "lgvit_test_unlabelled"
    DatasetCatalog.register(name, lambda: load_sem_seg(str(labels), str(images), "png", "jpg"))
    MetadataCatalog.get(name).set(
        image_root=str(images), sem_seg_root=str(labels), stuff_classes=["x"], ignore_label=255
    )
    try:
        with pytest.raises(FileNotFoundError, match=r"1 image\(s\) .* no label map .*images/b\.jpg"):
            checked_sem_seg_dicts(name)
    finally:
        DatasetCatalog.remove(name)
        MetadataCatalog.remove(name)


def test_missing_ade20k_says_where_and_how(monkeypatch):
    with pytest.raises(FileNotFoundError, match=r"ade20k_sem_seg_val.*ADEChallengeData2016.*prepare_ade20k"):
        checked_sem_seg_dicts("ade20k_sem_seg_val")
    with pytest.raises(KeyError, match="not registered"):
        checked_sem_seg_dicts("ade20k_typo")
