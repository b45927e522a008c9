"""End to end on the synthetic data, on CPU: Mask R-CNN (the README demo's ``run_demo`` with the demo's
own schedule, ``DEMO_OPTS``), RetinaNet and Keypoint R-CNN (through ``train_net.py``, their configs' 200
iterations, in a background process on the second core) reach AP far above an untrained model;
``--eval-only``/``--resume``, Detectron2's stock ``lazyconfig_train_net.py`` and two-process gloo training
through ``launch`` run.

Thresholds (AP, in %) were calibrated on 2 CPU cores (seeded runs; see projects/LGViTDet/README.md):
Mask R-CNN reached bbox 33.1 / segm 39.2 with its config's schedule and 50.1 / 54.7 with the demo's,
RetinaNet bbox 27.4, Keypoint R-CNN bbox 59.0 / keypoints 89.2, while the untrained models
(``train_net.py --eval-only`` without weights) score bbox 0.10 / segm 0.01 (Mask R-CNN), no detection at
all (RetinaNet), bbox 0.0007 / keypoints 0.0 (Keypoint R-CNN). The asserted floors sit at about half of
the reached values (of the config schedule's for Mask R-CNN), far above the untrained ones. One Mask
R-CNN run (the demo's) serves every Mask R-CNN test: the config's own schedule trained the same detector
a second time, for 3 minutes of the suite.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from d2_helpers import ENV, PY, REPO, STOCK, background_training, last_record_with, wait_for
from detectron2.engine import launch
from lgvit_tools.det_demo import DEMO_OPTS
from PIL import Image

pytestmark = pytest.mark.slow

CFG = {
    d: str(REPO / "configs" / "shapes" / f"{d}_regionvit_tiny_shapes.py")
    for d in ("mask_rcnn", "retinanet", "keypoint_rcnn")
}
# AP floors (%): calibrated values above, halved; an untrained detector scores < 1
FLOORS = {
    "mask_rcnn": {"bbox": 15, "segm": 18},
    "retinanet": {"bbox": 12},
    "keypoint_rcnn": {"bbox": 20, "keypoints": 12},
}


def final_metrics(out_dir: Path) -> dict:
    """The last metrics.json record with evaluation results (Detectron2 writes ``bbox/AP`` etc.)."""
    return last_record_with(out_dir, "/AP")


@pytest.fixture(scope="module")
def background(tmp_path_factory):
    """RetinaNet then Keypoint R-CNN trained by train_net.py in one background process (1 thread),
    while this process trains Mask R-CNN: the two CPU cores work in parallel."""
    root = tmp_path_factory.mktemp("bg")
    runs = [(CFG[d], root / d) for d in ("retinanet", "keypoint_rcnn")]
    with background_training(root, runs) as proc:
        yield proc, root


# the demo's Mask R-CNN schedule (360 iterations of batch 2 at shorter sides 128-160, tested at 144): the
# evaluation and resume below override the config the same way
DEMO = DEMO_OPTS["mask_rcnn"]
DEMO_ITERS = 360
assert f"train.max_iter={DEMO_ITERS}" in DEMO


@pytest.fixture(scope="module")
def demo(background, one_thread, tmp_path_factory):
    """The README demo's Mask R-CNN run (its own schedule), while the background process trains the others."""
    from lgvit_tools.det_demo import run_demo

    out = tmp_path_factory.mktemp("demo")
    return run_demo(out, configs={"mask_rcnn": CFG["mask_rcnn"]})["mask_rcnn"]


def wait(background, timeout: float = 1500) -> Path:
    proc, root = background
    wait_for(proc, root, timeout)
    return root


def test_background_training_started(background):
    proc, _ = background
    assert proc.poll() in (None, 0)


def test_mask_rcnn_trains_to_clear_ap(demo):
    r = demo["results"]
    print("Mask R-CNN AP:", {t: round(r[t]["AP"], 2) for t in ("bbox", "segm")}, f"{demo['seconds']:.0f} s")
    for task, floor in FLOORS["mask_rcnn"].items():
        assert r[task]["AP"] > floor, (task, r[task])


def test_demo_mask_rcnn_tells_its_shapes_apart(demo):
    """The demo's own Mask R-CNN schedule (``DEMO_OPTS``: batch 2 at smaller sizes, 360 iterations, late lr
    drops) learns all three shapes. The config's schedule cut to the demo's 120 iterations reached bbox AP
    26.2 with square / triangle AP 20.5 / 13.3 and labelled rotated squares "triangle"; this one 50.1 with
    39.0 / 56.0 (one thread; remeasured later: 45.2 with 34.9 / 50.3)."""
    bbox = demo["results"]["bbox"]
    print("demo Mask R-CNN bbox AP:", {k: round(v, 1) for k, v in bbox.items() if k.startswith("AP")})
    assert bbox["AP"] > 35 and bbox["AP-square"] > 25 and bbox["AP-triangle"] > 25, bbox


def test_prediction_png_is_drawn(demo):
    png = demo["pngs"][0]
    drawing = np.asarray(Image.open(png).convert("RGB"))
    assert drawing.shape[0] >= 2 * 100 and drawing.ndim == 3  # upscaled so that labels stay readable
    # the Visualizer draws saturated box/mask colours and white label text over a muted background
    assert (drawing.max(axis=2).astype(int) - drawing.min(axis=2) > 100).mean() > 0.002


def test_eval_only_reproduces_and_resume_continues(demo, one_thread, tmp_path):
    """train_net's --eval-only --resume finds the last checkpoint and gives the same AP; --resume with a
    longer schedule continues at the next iteration (on a copy: the stock-script test reads the original)."""
    from lgvit_det.engine import main, parse_args

    out = tmp_path / "run"
    shutil.copytree(demo["checkpoint"].parent, out)
    args = ["--config-file", CFG["mask_rcnn"], "--resume", *DEMO, f"train.output_dir={out}"]  # flags first
    res = main(parse_args(["--eval-only", *args]))
    for task in ("bbox", "segm"):
        assert res[task]["AP"] == pytest.approx(demo["results"][task]["AP"], abs=1e-6)
    main(parse_args([*args, f"train.max_iter={DEMO_ITERS + 2}"]))  # the last override wins
    assert torch.load(out / "model_final.pth", weights_only=True)["iteration"] == DEMO_ITERS + 1
    assert f"Starting training from iteration {DEMO_ITERS}" in (out / "log.txt").read_text()


def test_stock_lazyconfig_train_net_runs_our_configs(demo, tmp_path):
    """Detectron2's own script, configs unchanged, overrides on the command line: a few iterations of
    training, then --eval-only on the demo's trained Mask R-CNN (same AP as our evaluation)."""
    out = subprocess.run(
        [PY, str(STOCK), "--config-file", CFG["retinanet"], "train.max_iter=3", "train.eval_period=0",
         f"train.output_dir={tmp_path / 'train'}", "train.device=cpu"],
        env=ENV, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-5000:]
    assert (tmp_path / "train" / "model_final.pth").exists()
    assert "copypaste: AP,AP50" in out.stdout + out.stderr  # the final evaluation ran
    test_sizes = [o for o in DEMO if o.startswith("dataloader.test.")]  # the demo's evaluation
    out = subprocess.run(
        [PY, str(STOCK), "--config-file", CFG["mask_rcnn"], "--eval-only", *test_sizes,
         f"train.init_checkpoint={demo['checkpoint']}", f"train.output_dir={tmp_path / 'eval'}"],
        env=ENV, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-5000:]
    ap = demo["results"]["bbox"]["AP"]
    assert f"copypaste: {ap:.4f}" in out.stdout + out.stderr


def test_two_process_cpu_training_through_launch(tmp_path):
    """Detectron2's launch with 2 processes on CPU (gloo, DDP without device ids), distributed eval."""
    from lgvit_det.engine import main, parse_args

    args = parse_args(
        ["--num-gpus", "2", "--num-threads", "1", "--config-file", CFG["mask_rcnn"], "train.max_iter=4",
         "train.log_period=1", f"train.output_dir={tmp_path}",
         "model.roi_heads.box_predictor.test_score_thresh=0.5"]
    )  # fmt: skip
    launch(main, 2, dist_url="auto", args=(args,))
    assert torch.load(tmp_path / "model_final.pth", weights_only=True)["iteration"] == 3
    assert "total_loss" in (tmp_path / "metrics.json").read_text()
    assert "World size: 2" in (tmp_path / "log.txt").read_text()


def test_retinanet_trains_to_clear_ap(background):
    root = wait(background)
    m = final_metrics(root / "retinanet")
    print("RetinaNet AP:", round(m["bbox/AP"], 2))
    assert m["bbox/AP"] > FLOORS["retinanet"]["bbox"], m


def test_keypoint_rcnn_trains_to_clear_ap(background, tmp_path):
    root = wait(background)
    m = final_metrics(root / "keypoint_rcnn")
    print("Keypoint R-CNN AP:", round(m["bbox/AP"], 2), round(m["keypoints/AP"], 2))
    for task, floor in FLOORS["keypoint_rcnn"].items():
        assert m[f"{task}/AP"] > floor, m
    out = subprocess.run(
        [PY, str(REPO / "tools" / "visualize_detections.py"), "--config-file", CFG["keypoint_rcnn"],
         "--weights", str(root / "keypoint_rcnn" / "model_final.pth"), "--num-images", "1",
         "--output", str(tmp_path)],
        env=ENV, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    assert (tmp_path / "0000.png").exists()
