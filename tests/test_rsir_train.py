"""RSIR end to end on CPU (slow): the video wrapper trains a small divided space-time RSIR on the
motion-direction videos, and Mask R-CNN with a tiny RSIR learns the synthetic shapes -- both through the
shared glue, unchanged (configs/video/rsir_tiny_motion_synthetic.py, configs/shapes/mask_rcnn_rsir_tiny_
shapes.py). Floors: video >= 60% held-out top-1 (chance 25%; reading the motion axis without frame order
gives 50%: see the test); Mask R-CNN AP well above an untrained detector (< 1 AP, see
tests/test_det_train.py)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
VIDEO_CFG = REPO / "configs" / "video" / "rsir_tiny_motion_synthetic.py"
DET_CFG = REPO / "configs" / "shapes" / "mask_rcnn_rsir_tiny_shapes.py"
# measured (seeded, 2 cores shared with other jobs): bbox 39.7 / segm 43.1 after the 200 iterations;
# floors at about half, as tests/test_det_train.py does for RegionViT
DET_FLOORS = {"bbox": 20.0, "segm": 20.0}


# Held-out top-1 at train.seed 0-4 (one thread): 100 / 69.5 / 100 / 99.2 / 100% with RSIR's pre-issue-22
# backward; 75.8 / 99.2 / 100 / 100 / 99.2% with a backward that summed in another order (gradients within
# ~1e-7, the same random numbers); the current backward (one linear layer's gradient of the packed q/k/v, in
# token order) gave 100% at seed 0 (two threads). The rounding decides which trajectory a seed takes:
# the escape from the ln 2 plateau (motion axis learned, direction not) amplifies rounding, and about one
# seed (or rounding) in five ends with only one axis's direction learned (~75%, loss 0.5 ln 2). So a 90%
# floor tested the rounding of one trajectory (another CPU, thread count or torch could fail it), not the
# model. 60% is above what the motion axis alone gives (50%: a model without temporal order) by > 2 binomial
# sd on the 128 held-out clips and below the 75% state by ~4 sd: it asserts that RSIR learns direction.
VIDEO_FLOOR = 60.0


def test_video_rsir_learns_motion_direction(tmp_path):
    from lgvit_engine import load_config

    from video.engine import run

    torch.manual_seed(0)
    data = tmp_path / "motion"
    cfg = load_config(
        VIDEO_CFG,
        [
            f"dataloader.train.root='{data}'",
            f"dataloader.test.root='{data}'",
            f"train.output_dir='{tmp_path / 'out'}'",
        ],
    )
    t0 = time.time()
    res = run(cfg)
    print(f"\nRSIR motion held-out top-1: {res['top1']:.1f}% ({time.time() - t0:.0f}s)")
    assert res["top1"] >= VIDEO_FLOOR


def test_mask_rcnn_rsir_shapes_trains_to_clear_ap(tmp_path):
    from lgvit_tools.det_demo import train_and_visualize

    t0 = time.time()
    r = train_and_visualize(DET_CFG, tmp_path / "det")["results"]
    print(
        "\nMask R-CNN (tiny RSIR) AP:",
        {t: round(r[t]["AP"], 2) for t in ("bbox", "segm")},
        f"{time.time() - t0:.0f}s",
    )
    for task, floor in DET_FLOORS.items():
        assert r[task]["AP"] > floor, (task, r[task])
