"""Video training's answers to bad input, on the one runtime: skipped-video counts, a damaged latest
checkpoint on --resume, --eval-only with weights that leave the model partly initialised, damaged or
foreign weight files, dataset errors and a model too small for the data: each gets a clear answer, never
a traceback or a silent wrong run."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest
import torch
from lgvit_engine import load_config, resume_checkpoint

from lgvit.checkpoint import CheckpointError
from video.data.synthetic import make_motion_dataset
from video.engine import VideoTask, run
from video.train import main

REPO = Path(__file__).resolve().parents[1]
SYNTHETIC = REPO / "configs" / "video" / "regionvit_tiny_motion_synthetic.py"
CORRUPT = 4  # of the 8 training videos


pytestmark = pytest.mark.usefixtures("no_log_handler_outlives_its_run")


def overrides(data_root: Path, out: Path, *extra: str) -> list[str]:
    return [
        f"dataloader.train.root='{data_root}'",
        f"dataloader.test.root='{data_root}'",
        f"train.output_dir='{out}'",
        "train.num_workers=0",
        *extra,
    ]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """4 steps (8 videos, 4 of them undecodable, batch 2) with log_period=3 (does not divide the last
    step) and a checkpoint every step; returns (data root, output dir, skips seen in the logs)."""
    root = tmp_path_factory.mktemp("motion_bad")
    data = make_motion_dataset(root, train_per_class=2, val_per_class=1, size=32)
    train_files = [root / line.split()[0] for line in (root / "train.csv").read_text().split("\n") if line]
    for f in train_files[:CORRUPT]:
        f.write_bytes(b"not a video" * 10)
    out = root / "run"
    handler = _Count()
    logging.getLogger("video").addHandler(handler)
    try:
        cfg = load_config(
            SYNTHETIC,
            overrides(
                data.root,
                out,
                "train.epochs=1",
                "train.batch_size=2",
                "train.log_period=3",
                "train.checkpointer.period=1",
            ),
            required=VideoTask.required_keys,
        )
        run(cfg)
    finally:
        logging.getLogger("video").removeHandler(handler)
    return data.root, out, handler.skips


class _Count(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.skips = 0

    def emit(self, record):
        self.skips += record.getMessage().startswith("skipping video")


def test_item9_every_skipped_video_is_counted(trained):
    _, out, skips = trained
    assert skips >= CORRUPT  # resampling may land on another corrupt one; the test set has none broken
    ck = torch.load(out / "model_final.pth", weights_only=True)
    assert ck["iteration"] == 3 and ck["trainer"]["hooks"]["RunState"]["counters"]["skipped_videos"] == skips
    logs = [json.loads(line) for line in (out / "metrics.json").read_text().splitlines()]
    train = [r for r in logs if "total_loss" in r]
    assert [r["iteration"] for r in train] == [2, 3]  # the unclosed period is logged too
    assert train[-1]["skipped_videos"] == skips


def test_damaged_latest_checkpoint_falls_back_to_the_newest_intact(trained, tmp_path, caplog, capsys):
    data, src, _ = trained
    out = tmp_path / "run"
    shutil.copytree(src, out)
    assert (out / "last_checkpoint").read_text() == "model_final.pth"
    good = (out / "model_final.pth").read_bytes()
    (out / "model_final.pth").write_bytes(good[: len(good) // 2])  # truncated copy
    with caplog.at_level(logging.WARNING):
        path = resume_checkpoint(out)
    assert Path(path).name == "model_0000003.pth"  # the same step, saved under its number too
    assert "model_final.pth" in caplog.text and "truncated or damaged" in caplog.text
    # --resume goes on from there: one more step
    assert main(["--config-file", str(SYNTHETIC), "--resume", *overrides(data, out, "train.max_iter=5")]) == 0
    assert torch.load(out / "model_final.pth", weights_only=True)["iteration"] == 4
    # every checkpoint damaged: stop, naming them, exit 2 without a traceback
    for p in out.glob("model_*.pth"):
        p.write_bytes(b"")
    with pytest.raises(CheckpointError, match="no intact checkpoint") as e:
        resume_checkpoint(out)
    assert "model_final.pth" in str(e.value) and "model_0000003.pth" in str(e.value)
    capsys.readouterr()
    assert main(["--config-file", str(SYNTHETIC), "--resume", *overrides(data, out, "train.max_iter=6")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no intact checkpoint") and "Traceback" not in err


@pytest.mark.parametrize("kind", ["missing", "empty", "garbage", "truncated", "head_missing", "image_model"])
def test_items4_8_video_weights_get_one_clear_message(trained, tmp_path, capsys, kind):
    data, src, _ = trained
    weights = tmp_path / "w.pth"
    sd = torch.load(src / "model_final.pth", weights_only=True)["model"]
    if kind == "empty":
        weights.write_bytes(b"")
    elif kind == "garbage":
        weights.write_bytes(b"garbage, not weights" * 20)
    elif kind == "truncated":
        torch.save({"model": sd}, weights)
        weights.write_bytes(weights.read_bytes()[:500])
    elif kind == "head_missing":  # the heads would stay at random initialisation: no metrics reported
        torch.save({k: v for k, v in sd.items() if "head" not in k}, weights)
    elif kind == "image_model":
        torch.save({"foo.weight": torch.zeros(2)}, weights)
    args = ["--config-file", str(SYNTHETIC), "--eval-only", "--weights", str(weights)]
    assert main([*args, *overrides(data, tmp_path / "eval")]) == 2
    err = capsys.readouterr().err
    expected = {
        "missing": "does not exist",
        "empty": "is empty",
        "garbage": "is not a PyTorch checkpoint",
        "truncated": "truncated or damaged",
        "head_missing": "model parameters absent from the weights: backbone.head.weight",
        "image_model": "no key in common",
    }[kind]
    assert "\nerror: " in f"\n{err}" and expected in err and "Traceback" not in err
    assert str(weights) in err or kind in ("head_missing", "image_model")
    assert not (tmp_path / "eval" / "predictions.json").exists()


def test_items1_10_video_train_refuses_typos_wrong_values_and_detection_configs(capsys):
    assert main(["--config-file", str(SYNTHETIC), "train.max_itr=5"]) == 2  # typo of max_iter
    err = capsys.readouterr().err
    assert "train.max_itr" in err and "max_iter" in err
    assert main(["--config-file", str(SYNTHETIC), "train.epochs=ten"]) == 2
    assert "train.epochs" in capsys.readouterr().err
    det = REPO / "configs" / "shapes" / "mask_rcnn_regionvit_tiny_shapes.py"
    assert main(["--config-file", str(det)]) == 2
    assert "detection" in capsys.readouterr().err


@pytest.fixture(scope="module")
def clean_motion(tmp_path_factory):
    return make_motion_dataset(
        tmp_path_factory.mktemp("motion_ok"), train_per_class=1, val_per_class=1, size=32
    )


def _broken_copy(src: Path, dst: Path, how: str) -> Path:
    shutil.copytree(src, dst)
    if how == "bad_line":
        with (dst / "train.csv").open("a") as f:
            f.write("train/move_up/extra.mp4 sideways\n")
    elif how == "all_unreadable":
        for f in (dst / "train").rglob("*.mp4"):
            f.write_bytes(b"not a video")
    return dst


@pytest.mark.parametrize(
    "case, extra, expected",
    [
        ("bad_line", [], "label 'sideways' is not in the class map"),
        ("crop", ["dataloader.train.transform.crop_size=48"], "need crop_size <= min_size"),
        ("all_unreadable", ["train.num_workers=1"], "videos in a row could not be decoded"),
        ("num_classes", ["model.num_classes=3"], "model.num_classes=3, but dataloader.train has 4 classes"),
        ("test_crop", ["dataloader.test.transform.crop_size=48"], "crop_size 48 is larger than short_side"),
    ],
)
def test_data_errors_and_a_too_small_model_get_one_clear_message(
    clean_motion, tmp_path, capsys, case, extra, expected
):
    """Dataset errors, at construction or inside a DataLoader worker mid-epoch, and a model with fewer
    outputs than the data's classes (before: ``IndexError: Target 3 is out of bounds`` mid-training) end
    with one message and exit 2, before any step for what can be known before."""
    data = _broken_copy(clean_motion.root, tmp_path / "data", case)
    out = tmp_path / "run"
    args = ["--config-file", str(SYNTHETIC), *overrides(data, out, "train.max_iter=2", "train.batch_size=2")]
    assert main([*args, *extra]) == 2
    err = capsys.readouterr().err
    assert "\nerror: " in f"\n{err}" and expected in err and "Traceback" not in err, err
    assert ("dataloader.test" if case.startswith("test") else "dataloader.train") in err
    assert not list(out.glob("model_*.pth"))  # no step was taken
