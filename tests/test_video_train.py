"""video/train.py and the engine: CLI, configs, train/resume/evaluate, motion learning, torchrun."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from video.config import load_config
from video.data.synthetic import make_motion_dataset
from video.engine.runner import run
from video.train import main

REPO = Path(__file__).resolve().parents[1]
CONFIGS = sorted((REPO / "configs" / "video").glob("*.py"))
SYNTHETIC = REPO / "configs" / "video" / "regionvit_tiny_motion_synthetic.py"


@pytest.fixture(scope="module")
def tiny_motion(tmp_path_factory):
    return make_motion_dataset(tmp_path_factory.mktemp("motion"), train_per_class=2, val_per_class=1, size=32)


def synthetic_cfg(data_root: Path, out: Path, *extra: str):
    return load_config(
        SYNTHETIC,
        [
            f"dataloader.train.root='{data_root}'",
            f"dataloader.test.root='{data_root}'",
            f"train.output_dir='{out}'",
            *extra,
        ],
    )


def test_help_explains_every_flag():
    out = subprocess.run(
        [sys.executable, "-m", "video.train", "--help"], capture_output=True, text=True, cwd=REPO
    )
    assert out.returncode == 0
    for flag in ("--config-file", "--eval-only", "--resume", "--weights", "KEY=VALUE", "torchrun"):
        assert flag in out.stdout, flag
    assert "top-1/top-5" in out.stdout and "last.pth" in out.stdout


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_configs_load_and_follow_the_paper(path):
    cfg = load_config(path)
    if "synthetic" in path.stem:
        return
    assert cfg.optimizer.lr == 2e-4 and cfg.optimizer.params.weight_decay == 1e-4  # A.4
    assert cfg.model.num_frames == 8 and cfg.dataloader.test.transform.num_crops == 3
    assert (cfg.dataloader.train.transform.min_size, cfg.dataloader.train.transform.max_size) == (256, 320)
    ssv2 = "ssv2" in path.stem
    assert cfg.model.num_classes == cfg.mixup.num_classes == (174 if ssv2 else 400)
    assert cfg.dataloader.train.transform.flip_prob == (0.0 if ssv2 else 0.5)  # SSv2 labels say left/right
    assert cfg.model.backbone == ("regionvit_m" if "_m_" in path.stem else "regionvit_s")


def test_bad_command_lines_are_explained(capsys):
    assert main(["--config-file", "configs/video/nope.py"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["--config-file", str(SYNTHETIC), "train.epochs"]) == 2
    assert "key=value" in capsys.readouterr().err


def test_train_resume_and_three_crop_eval(tiny_motion, tmp_path):
    out = tmp_path / "run"
    res = run(
        synthetic_cfg(tiny_motion.root, out, "train.max_steps=2", "train.batch_size=2", "train.log_period=1")
    )
    assert set(res) == {"top1", "top5", "num_videos", "skipped"} and res["num_videos"] == 4
    ck = torch.load(out / "last.pth", weights_only=False)
    assert ck["step"] == 2 and ck["seen_in_epoch"] == 4  # 2 steps x 2 clips
    logs = [json.loads(line) for line in (out / "metrics.json").read_text().splitlines()]
    assert [r["iteration"] for r in logs if r["kind"] == "train"] == [1, 2]
    assert {"loss", "lr", "clips_per_s", "eta_min", "skipped_videos"} <= set(logs[0])
    # resume: continues mid-epoch from step 2 with gradient accumulation over 2 micro-batches
    run(
        synthetic_cfg(
            tiny_motion.root, out, "train.max_steps=3", "train.batch_size=1", "train.accum_steps=2"
        ),
        resume=True,
    )
    ck = torch.load(out / "last.pth", weights_only=False)
    assert ck["step"] == 3 and ck["seen_in_epoch"] == 6  # 4 + one step of 2 micro-batches of 1 clip
    # --eval-only on the final weights writes per-video predictions
    res2 = run(synthetic_cfg(tiny_motion.root, out), eval_only=True)
    assert res2["num_videos"] == 4
    rows = list(csv.DictReader((out / "predictions.csv").open()))
    assert len(rows) == 4 and {"video", "label", "pred", "score", "top5"} <= set(rows[0])
    pred = json.loads((out / "predictions.json").read_text())
    assert pred["metrics"]["num_videos"] == 4 and len(pred["videos"]) == 4


class _Killed(Exception):
    pass


@pytest.mark.slow
def test_resume_after_a_kill_equals_an_uninterrupted_run(tiny_motion, tmp_path, monkeypatch):
    """Killed right after the mid-epoch checkpoint of step 3, then --resume: the same losses and weights as
    a run that was never interrupted. Every random draw is in play: frame positions, scale, crop and flip,
    mixup/cutmix, drop path, and gradient accumulation over 2 micro-batches (2 steps per epoch)."""
    from detectron2.config import LazyCall as L

    from video.data.mix import MixupCutmix
    from video.engine.trainer import Trainer

    def cfg(out):
        c = synthetic_cfg(
            tiny_motion.root,
            out,
            "train.max_steps=4",
            "train.batch_size=2",
            "train.accum_steps=2",
            "train.log_period=1",
            "train.checkpoint_steps=1",
            "model.drop_path_rate=0.1",
            "dataloader.train.transform.flip_prob=0.5",
        )
        c.dataloader.test = None  # no evaluation needed
        c.mixup = L(MixupCutmix)(num_classes=4)
        return c

    run(cfg(tmp_path / "full"))
    save = Trainer.save

    def save_then_die(self, *args, **kwargs):
        save(self, *args, **kwargs)
        if self.step == 3:
            raise _Killed

    monkeypatch.setattr(Trainer, "save", save_then_die)
    with pytest.raises(_Killed):
        run(cfg(tmp_path / "part"))
    monkeypatch.setattr(Trainer, "save", save)
    run(cfg(tmp_path / "part"), resume=True)

    def losses(out):
        logs = [json.loads(line) for line in (out / "metrics.json").read_text().splitlines()]
        return [(r["iteration"], r["loss"]) for r in logs if r["kind"] == "train"]

    full, part = losses(tmp_path / "full"), losses(tmp_path / "part")
    assert [i for i, _ in full] == [1, 2, 3, 4] and [i for i, _ in part] == [1, 2, 3, 4]
    assert part == full  # exactly: the same numbers, not close ones
    a = torch.load(tmp_path / "full" / "last.pth", weights_only=False)
    b = torch.load(tmp_path / "part" / "last.pth", weights_only=False)
    assert a["step"] == b["step"] == 4
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k


def motion_accuracy(data: Path, out: Path, space_time: str) -> tuple[float, float]:
    torch.manual_seed(0)
    t0 = time.time()
    res = run(synthetic_cfg(data, out, f"model.space_time={space_time}"))
    return res["top1"], time.time() - t0


@pytest.mark.slow
def test_motion_direction_needs_temporal_attention(tmp_path):
    """The generated dataset's classes differ only in the direction of motion: divided space-time attention
    learns it; the same model without temporal attention (image model averaged over frames) cannot."""
    data = tmp_path / "motion"
    with_t, t1 = motion_accuracy(data, tmp_path / "temporal", "divided")
    without_t, t2 = motion_accuracy(data, tmp_path / "no_temporal", "space")
    print(
        f"\nmotion held-out top-1: temporal attention {with_t:.1f}% ({t1:.0f}s), "
        f"without {without_t:.1f}% ({t2:.0f}s)"
    )
    assert with_t >= 90.0
    assert without_t <= 45.0  # chance is 25%


@pytest.mark.slow
def test_torchrun_two_processes_gloo(tiny_motion, tmp_path):
    out = tmp_path / "ddp"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",  # = torchrun
        "--standalone",  # picks a free port
        "--nproc_per_node",
        "2",
        "-m",
        "video.train",
        "--config-file",
        str(SYNTHETIC),
        f"dataloader.train.root='{tiny_motion.root}'",
        f"dataloader.test.root='{tiny_motion.root}'",
        f"train.output_dir='{out}'",
        "train.max_steps=2",
        "train.batch_size=2",
        "train.log_period=1",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert "2 process(es)" in proc.stdout and "top-1" in proc.stdout
    assert torch.load(out / "last.pth", weights_only=False)["step"] == 2
