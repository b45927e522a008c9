"""End-to-end classification runs (slow): every digits config reaches >= 95% held-out top-1 on the
real UCI digits in half its schedule, and two-process torchrun (gloo) training runs.

Adding a family's digits config (``configs/classification/digits_<family>_tiny.py``) adds its run here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from cls_helpers import CLS_CONFIGS, DIGITS_CONFIG, REPO, make_folder
from lgvit_cls import REQUIRED, export_digits, run
from lgvit_engine import load_config

from lgvit.checkpoint import read_checkpoint

DIGITS_CONFIGS = sorted(CLS_CONFIGS.glob("digits_*.py"))
# The configs' recipe over 10 of their 20 epochs (the same 2 warm-up epochs, the cosine over the rest):
# held-out top-1 with train.seed 0 / 1 / 2 was RegionViT 98.00 / 98.22 / 98.00, RSIR 97.78 / 97.56 / 98.22,
# SALG 98.67 / 98.89 / 99.11 % (the full 20 epochs: 99.33, 98.44, 98.89 at seed 0), so the 95% floor keeps a
# margin of at least 2.5 points (11 of the 450 images) on every seed, at half the run time.
EPOCHS = 10


@pytest.mark.slow
@pytest.mark.parametrize("config", DIGITS_CONFIGS, ids=lambda p: p.stem)
def test_digits_held_out_top1_reaches_95(config, tmp_path):
    pytest.importorskip("sklearn")
    cfg = load_config(config, required=REQUIRED, kind="classification")
    data = export_digits(tmp_path / "digits", size=int(cfg.dataloader.val.transform.input_size))
    cfg = load_config(
        config,
        [
            f"dataloader.train.root='{data.train}'",
            f"dataloader.val.root='{data.val}'",
            f"train.output_dir='{tmp_path / 'out'}'",
            f"train.epochs={EPOCHS}",
        ],
        required=REQUIRED,
        kind="classification",
    )
    t0 = time.time()
    result = run(cfg)
    print(f"{config.stem}: held-out top-1 {result['top1']:.2f}% in {time.time() - t0:.0f}s")
    assert result["num_images"] == 450 and result["skipped_images"] == 0
    assert result["top1"] >= 95.0, result


@pytest.mark.slow
def test_two_process_torchrun_gloo(tmp_path):
    train = make_folder(tmp_path / "train", per_class=8)  # 24 images
    val = make_folder(tmp_path / "val", per_class=3, seed=1)  # 9 images
    out = tmp_path / "out"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        str(REPO / "projects" / "LGViTCls" / "train_net.py"),
        "--config-file",
        str(DIGITS_CONFIG),
        f"dataloader.train.root='{train}'",
        f"dataloader.val.root='{val}'",
        f"train.output_dir='{out}'",
        "model.num_classes=3",
        "train.epochs=2",
        "train.batch_size=4",
        "train.log_period=1",
        "train.eval_period=1",
        "scheduler.warmup_epochs=0",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    recs = [json.loads(line) for line in (out / "metrics.json").read_text().splitlines()]
    train_recs = [r for r in recs if "total_loss" in r]
    # 24 images over 2 processes, 4 per process and step: 3 steps per epoch, logged once (by rank 0)
    assert [r["iteration"] for r in train_recs] == [0, 1, 2, 3, 4, 5]
    evals = [r for r in recs if "top1" in r]
    assert len(evals) == 2 and all(r["num_images"] == 9 for r in evals)  # every image once over both
    ck = read_checkpoint(out / "model_final.pth")
    assert ck["iteration"] == 5
    assert "World size: 2" in (out / "log.txt").read_text()
