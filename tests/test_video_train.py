"""video/train.py on the one training runtime (lgvit_engine): CLI, configs, train / resume / evaluate with
TensorBoard + JSON metrics, exact resume, motion learning, torchrun and launch."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from lgvit_engine import load_config

from video.data.synthetic import make_motion_dataset
from video.engine import VideoTask, run
from video.train import main

REPO = Path(__file__).resolve().parents[1]
CONFIGS = sorted((REPO / "configs" / "video").glob("*.py"))
SYNTHETIC = REPO / "configs" / "video" / "regionvit_tiny_motion_synthetic.py"


pytestmark = pytest.mark.usefixtures("no_log_handler_outlives_its_run")


@pytest.fixture(scope="module")
def tiny_motion(tmp_path_factory):
    return make_motion_dataset(tmp_path_factory.mktemp("motion"), train_per_class=2, val_per_class=1, size=32)


def overrides(data_root: Path, out: Path, *extra: str) -> list[str]:
    return [
        f"dataloader.train.root='{data_root}'",
        f"dataloader.test.root='{data_root}'",
        f"train.output_dir='{out}'",
        *extra,
    ]


def synthetic_cfg(data_root: Path, out: Path, *extra: str):
    return load_config(SYNTHETIC, overrides(data_root, out, *extra), required=VideoTask.required_keys)


def records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "metrics.json").read_text().splitlines()]


def test_help_explains_every_flag():
    out = subprocess.run(
        [sys.executable, "-m", "video.train", "--help"], capture_output=True, text=True, cwd=REPO
    )
    assert out.returncode == 0
    for flag in (
        "--config-file",
        "--eval-only",
        "--resume",
        "--weights",
        "--num-gpus",
        "--dist-url",
        "torchrun",
    ):
        assert flag in out.stdout, flag
    assert "top-1/top-5" in out.stdout and "predictions.csv" in out.stdout and "KEY=VALUE" in out.stdout


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_configs_load_and_follow_the_paper(path):
    cfg = load_config(path, required=VideoTask.required_keys)
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
    assert main(["--config-file", str(SYNTHETIC), "train.test_batch_size=0"]) == 2
    assert "train.test_batch_size=0" in capsys.readouterr().err


@pytest.mark.slow
def test_two_iterations_write_tensorboard_and_json_then_resume_and_eval(tiny_motion, tmp_path):
    out = tmp_path / "run"
    args = ["--config-file", str(SYNTHETIC), *overrides(tiny_motion.root, out, "train.batch_size=2")]
    assert main([*args, "train.max_iter=2", "train.log_period=1"]) == 0
    assert list(out.glob("events.out.tfevents.*")), "no TensorBoard event file"
    train = [r for r in records(out) if "total_loss" in r]
    assert [r["iteration"] for r in train] == [0, 1] and {"lr", "skipped_videos"} <= set(train[0])
    evals = [r for r in records(out) if "top1" in r]
    assert len(evals) == 1 and evals[0]["num_videos"] == 4
    assert torch.load(out / "model_final.pth", weights_only=False)["iteration"] == 1
    # --resume continues at step 3 (mid-epoch: 8 videos, batch 2), with gradient accumulation now
    assert main(["--resume", *args, "train.max_iter=3", "train.accum_steps=2", "train.log_period=1"]) == 0
    train = [r for r in records(out) if "total_loss" in r]
    assert [r["iteration"] for r in train] == [0, 1, 2]
    assert torch.load(out / "model_final.pth", weights_only=False)["iteration"] == 2
    # --eval-only on the final weights (the default) writes per-video predictions
    (out / "predictions.csv").unlink()
    assert main(["--eval-only", *args]) == 0
    rows = list(csv.DictReader((out / "predictions.csv").open()))
    assert len(rows) == 4 and {"video", "label", "pred", "score", "top5"} <= set(rows[0])
    pred = json.loads((out / "predictions.json").read_text())
    assert pred["metrics"]["num_videos"] == 4 and len(pred["videos"]) == 4


@pytest.mark.slow
def test_resume_after_a_kill_equals_an_uninterrupted_run(tiny_motion, tmp_path):
    """The folder a run killed after step 3 leaves (its checkpoints up to step 3, written by the
    uninterrupted run, which saves every step), then --resume: the same weights, optimizer state and
    schedule as the uninterrupted run. Every random draw is in play: frame positions, scale, crop and
    flip, mixup/cutmix, drop path, and gradient accumulation over 2 micro-batches (2 steps per epoch),
    with a DataLoader worker in the resumed run only (augmentation must not depend on who loads)."""
    from detectron2.config import LazyCall as L

    from video.data.mix import MixupCutmix

    def cfg(out, *extra):
        c = synthetic_cfg(
            tiny_motion.root,
            out,
            "train.max_iter=4",
            "train.batch_size=2",
            "train.accum_steps=2",
            "train.log_period=1",
            "train.checkpointer.period=1",
            "model.drop_path_rate=0.1",
            "dataloader.train.transform.flip_prob=0.5",
            *extra,
        )
        c.dataloader.test = None  # no evaluation needed
        c.mixup = L(MixupCutmix)(num_classes=4)
        return c

    full, part = tmp_path / "full", tmp_path / "part"
    run(cfg(full, "train.checkpointer.max_to_keep=None"))
    part.mkdir()
    for name in ("model_0000000.pth", "model_0000001.pth", "model_0000002.pth"):
        shutil.copy(full / name, part / name)
    (part / "last_checkpoint").write_text("model_0000002.pth")
    run(cfg(part, "train.num_workers=1"), resume=True)
    a = torch.load(full / "model_final.pth", weights_only=False)
    b = torch.load(part / "model_final.pth", weights_only=False)
    assert a["iteration"] == b["iteration"] == 3
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
    sa, sb = a["trainer"]["optimizer"]["state"], b["trainer"]["optimizer"]["state"]
    for i in sa:
        for k in sa[i]:
            assert torch.equal(torch.as_tensor(sa[i][k]), torch.as_tensor(sb[i][k])), (i, k)
    assert a["trainer"]["hooks"]["LRScheduler"] == b["trainer"]["hooks"]["LRScheduler"]
    assert [r["iteration"] for r in records(part) if "total_loss" in r] == [3]
    # the resumed run trained (a resume that skipped the step would also "match" nothing)
    before = torch.load(full / "model_0000002.pth", weights_only=False)["model"]
    assert any(not torch.equal(before[k], a["model"][k]) for k in before)


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
    # with temporal attention, train.seed 0-4 on this runtime: 76.6 / 99.2 / 97.7 / 98.4 / 98.4% (seed 0, the
    # one run here, learns late in the 16 epochs); without: 32.0% (seed 0)
    assert with_t >= 70.0
    assert without_t <= 45.0  # chance is 25%


@pytest.mark.slow
@pytest.mark.parametrize("how", ["torchrun", "launch"])
def test_two_processes_gloo(tiny_motion, tmp_path, how):
    """torchrun's processes and Detectron2's ``launch`` (``--num-gpus 2``: on CPU, two gloo processes)."""
    out = tmp_path / how
    start = (
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
        if how == "torchrun"
        else [sys.executable]
    )
    cmd = [
        *start,
        "-m",
        "video.train",
        "--config-file",
        str(SYNTHETIC),
        *(["--num-gpus", "2"] if how == "launch" else []),
        *overrides(tiny_motion.root, out, "train.max_iter=2", "train.batch_size=2", "train.log_period=1"),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    log = (out / "log.txt").read_text()
    assert "top-1" in log and "(4 videos" in log
    assert "World size: 2" in log
    assert torch.load(out / "model_final.pth", weights_only=False)["iteration"] == 1
