"""Classification data: the digits export, image-folder checks (empty classes, unreadable images,
different train/val classes), the skipping collate, the samplers, and RandAugment under Pillow 13."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from cls_helpers import make_folder
from lgvit_cls import ImageFolderDataset, Unreadable, check_same_classes, collate_skipping
from lgvit_cls.data import train_sampler
from lgvit_cls.digits import export_digits, split_indices
from PIL import Image

pytest.importorskip("sklearn")


def test_digits_export_is_real_fixed_and_stratified(tmp_path):
    from sklearn.datasets import load_digits

    d = export_digits(tmp_path / "digits", size=16)
    assert (d.num_train, d.num_val) == (1347, 450)
    assert d.classes == tuple(str(i) for i in range(10))
    train, val = ImageFolderDataset(d.train), ImageFolderDataset(d.val)
    assert (len(train), len(val)) == (1347, 450)
    assert train.classes == val.classes == list(d.classes)
    # stratified: every digit keeps round(25%) of its images in val
    counts = np.bincount(load_digits().target, minlength=10)
    assert np.bincount(val.targets, minlength=10).tolist() == [int(round(0.25 * c)) for c in counts]
    # the pixels are sklearn's image, upsampled: downsampling back recovers it
    digits = load_digits()
    path, target = val.samples[0]
    index = int(path.rsplit("/", 1)[1].split(".")[0])
    assert digits.target[index] == target
    img = np.asarray(Image.open(path))
    assert img.shape == (16, 16) and img.dtype == np.uint8
    small = np.asarray(Image.fromarray(img).resize((8, 8), Image.BOX), dtype=np.float64) * 16 / 255
    assert np.abs(small - digits.images[index]).mean() < 1.5
    # the split is a pure function of the seed; same parameters reuse the export, others are refused
    assert split_indices(digits.target, 0.25, 0).tolist() == split_indices(digits.target, 0.25, 0).tolist()
    assert export_digits(tmp_path / "digits", size=16) == d
    with pytest.raises(FileExistsError, match="other parameters"):
        export_digits(tmp_path / "digits", size=32)
    again = export_digits(tmp_path / "digits", size=24, overwrite=True)
    assert Image.open(ImageFolderDataset(again.val).samples[0][0]).size == (24, 24)
    assert json.loads((tmp_path / "digits" / "manifest.json").read_text())["size"] == 24
    with pytest.raises(ValueError, match="holdout"):
        export_digits(tmp_path / "x", holdout=1.5)


def test_missing_root_and_root_without_classes(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist.*<class name>"):
        ImageFolderDataset(tmp_path / "nope")
    (tmp_path / "flat").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "flat" / "x.png")
    with pytest.raises(ValueError, match="no class sub-folders"):
        ImageFolderDataset(tmp_path / "flat")


def test_empty_class_folders_are_named(tmp_path):
    root = make_folder(tmp_path / "train")
    (root / "d_empty").mkdir()
    (root / "e_only_text").mkdir()
    (root / "e_only_text" / "notes.txt").write_text("not an image")
    with pytest.raises(ValueError, match=r"2 class folder\(s\) hold no images") as e:
        ImageFolderDataset(root)
    assert str(root / "d_empty") in str(e.value) and str(root / "e_only_text") in str(e.value)


def test_unreadable_and_truncated_images_are_skipped_named_and_counted(tmp_path, caplog):
    root = make_folder(tmp_path / "train", per_class=2)
    good = (root / "a" / "000.png").read_bytes()
    (root / "a" / "truncated.png").write_bytes(good[: len(good) // 2])
    (root / "b" / "garbage.jpg").write_bytes(b"this is not a jpeg")
    ds = ImageFolderDataset(root, transform=lambda im: torch.from_numpy(np.asarray(im).copy()))
    assert len(ds) == 8
    with caplog.at_level("WARNING", logger="lgvit_cls"):
        batch = [ds[i] for i in range(len(ds))]
        again = [ds[i] for i in range(len(ds))]  # warned once per file
    bad = sorted(b.path for b in batch if isinstance(b, Unreadable))
    assert bad == [str(root / "a" / "truncated.png"), str(root / "b" / "garbage.jpg")]
    assert len([r for r in caplog.records if "skipping unreadable image" in r.message]) == 2
    assert any("truncated.png" in r.message for r in caplog.records)
    images, targets, skipped = collate_skipping(batch)
    assert images.shape == (6, 32, 32, 3) and targets.tolist() == [0, 0, 1, 1, 2, 2]
    assert sorted(skipped) == bad
    assert len(again) == 8


def test_train_and_val_with_different_classes(tmp_path):
    train = ImageFolderDataset(make_folder(tmp_path / "train", classes=("cat", "dog", "emu")))
    val = ImageFolderDataset(make_folder(tmp_path / "val", classes=("cat", "dog", "fox")))
    with pytest.raises(ValueError, match="only in training: emu; only in validation: fox"):
        check_same_classes(train, val)
    check_same_classes(train, train)


def test_samplers_repeat_and_shard_deterministically(tmp_path):
    ds = ImageFolderDataset(make_folder(tmp_path / "train", per_class=4))  # 12 images
    ranks = [train_sampler(ds, 3, 0, r, 2) for r in range(2)]
    for s in ranks:
        s.set_epoch(1)
    orders = [list(s) for s in ranks]
    # timm's RepeatAugSampler: 36 draws split over 2 ranks, each image 3 times, selected share per rank
    assert all(len(o) == 6 for o in orders)
    flat = [i for o in orders for i in o]
    assert set(flat) <= set(range(12))
    assert orders == [list(s) for s in ranks]  # a function of the epoch
    plain = train_sampler(ds, 0, 5, 0, 1)
    plain.set_epoch(2)
    assert sorted(plain) == list(range(12))


def test_randaugment_posterize_does_not_crash_under_pillow_13():
    """timm's rand-m9-mstd0.5-inc1 posterizes to 0 bits at magnitude 10; Pillow 13 raises for that."""
    from timm.data import auto_augment

    from lgvit.compat import timm_posterize_zero_bits

    timm_posterize_zero_bits()
    op = auto_augment.AugmentOp("PosterizeIncreasing", prob=1.0, magnitude=10)
    out = op(Image.new("RGB", (4, 4), (200, 100, 50)))
    assert out.getpixel((0, 0)) == (0, 0, 0)  # Pillow 12's result: every bit masked
    op = auto_augment.AugmentOp("PosterizeIncreasing", prob=1.0, magnitude=5)
    assert op(Image.new("RGB", (4, 4), (200, 100, 50))).getpixel((0, 0)) == (192, 64, 0)


def test_imports_stay_light():
    """``import lgvit`` does not load the classification task; the task loads sklearn only when used."""
    code = (
        "import sys, lgvit; a = 'lgvit_cls' in sys.modules; import lgvit_cls; "
        "print(a, [m for m in ('sklearn', 'video') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False []"
