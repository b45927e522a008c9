"""SALG end to end on CPU (slow): the shared Detectron2 adapter and video wrapper take SALG unchanged.

* Mask R-CNN with a tiny SALG on the synthetic shapes (``configs/shapes/mask_rcnn_salg_tiny_shapes.py``)
  trains 200 iterations to an AP far above the untrained detector's.
* The divided space-time video model with a tiny SALG (``configs/video/salg_tiny_motion_synthetic.py``)
  learns the motion-direction task (classes differ only in the direction of motion) to >= 90% held-out
  top-1, the bar RegionViT meets.

Measured numbers are printed (``pytest -s``) and reported in the README's SALG section.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.det
def test_shapes_mask_rcnn_with_tiny_salg_reaches_clear_ap(tmp_path):
    from lgvit_det.engine import build_model, do_test, do_train, load_config

    cfg_file = REPO / "configs" / "shapes" / "mask_rcnn_salg_tiny_shapes.py"
    cfg = load_config(str(cfg_file), [f"train.output_dir={tmp_path}"])
    torch.manual_seed(0)
    untrained = do_test(cfg, build_model(cfg).eval())
    t0 = time.time()
    trained = do_train(cfg)
    seconds = time.time() - t0
    ap = {t: (round(untrained[t]["AP"], 2), round(trained[t]["AP"], 2)) for t in ("bbox", "segm")}
    print(f"\nshapes Mask R-CNN, tiny SALG: AP (untrained, trained) {ap}, training {seconds:.0f} s")
    for task in ("bbox", "segm"):
        assert trained[task]["AP"] > 10.0, (task, trained[task])
        assert trained[task]["AP"] > untrained[task]["AP"] + 9.0, (task, untrained[task], trained[task])


@pytest.mark.video
# What the config's two departures from the paper rest on (32-epoch runs of this trainer, one thread each;
# held-out top-1, 4 classes, chance 25%):
# * This 3-stage config: 93.8 / 94.5 / 100 / 98.4 / 98.4% for seeds 0-4 (~90 s each).
# * The stem must be linear and learned. With the paper's 3-conv stem (Conv-LN-GELU x2, Conv) the loss
#   stays at ln 4 (25.0%), also without its LayerNorms and at lr 5e-4 (two stages), with BatchNorm or
#   frozen (16 epochs: 28.9%, 25.8%); RSIR with that stem also stays at chance. The same three convs
#   without the GELUs learn (83.6% after 16 epochs), while RegionViT's 1-conv stem frozen at its
#   initialisation stays at chance (25.0%).
# * The stride-16 stage: with two stages (8x8 and 4x4 maps) the loss leaves ln 4 for ln 2 (the motion axis,
#   readable without frame order) and finds the direction in some seeds only: depths (1, 1), heads (2, 4):
#   43.0 / 100 / 98.4%; depths (2, 1): 61.7 / 71.9 / 75.0%; RSIR's 4x4 linear stem: 85.9 / 93.0 / 59.4%.
#   A translation-equivariant network's per-frame features, pooled over space, do not say where the square
#   is; the 2x2 stride-16 tokens embed 16x16-pixel areas, as RegionViT's regional tokens do, and give the
#   temporal attention a coarse position code.
def test_video_salg_learns_motion_direction(tmp_path):
    from video.config import load_config
    from video.engine.runner import run

    cfg = load_config(
        REPO / "configs" / "video" / "salg_tiny_motion_synthetic.py",
        [
            f"dataloader.train.root='{tmp_path / 'motion'}'",
            f"dataloader.test.root='{tmp_path / 'motion'}'",
            f"train.output_dir='{tmp_path / 'out'}'",
        ],
    )
    torch.manual_seed(0)
    t0 = time.time()
    res = run(cfg)
    print(f"\nmotion held-out top-1, video SALG: {res['top1']:.1f}% ({time.time() - t0:.0f} s)")
    assert res["top1"] >= 90.0
