"""The detection part of the README's main command (``tools/demo.py``): trains a small Mask R-CNN and a
small Keypoint R-CNN (tiny RegionViT) on the synthetic datasets on CPU, evaluates both with
``COCOEvaluator``, prints AP and writes prediction PNGs."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import torch
from detectron2.data import DatasetCatalog
from lgvit_det.engine import do_train, load_config
from lgvit_det.visualize import LazyPredictor, visualize_files
from lgvit_engine import logs

__all__ = ["DEMO_CONFIGS", "DEMO_OPTS", "REPO_ROOT", "run_demo", "train_and_visualize"]

from . import REPO_ROOT

DEMO_CONFIGS = {
    "mask_rcnn": "configs/shapes/mask_rcnn_regionvit_tiny_shapes.py",
    "keypoint_rcnn": "configs/shapes/keypoint_rcnn_regionvit_tiny_shapes.py",
}
# The demo's own schedule for a detector, in place of the shortened config schedule (``max_iter``). Mask
# R-CNN has to tell squares from triangles: with the config's settings cut to 120 iterations of 4 images
# it labelled rotated squares "triangle" (bbox / segm AP 26.2 / 36.2 on one thread). Batch 2 at shorter
# sides 128-160 (test 144) costs 0.45x an iteration of 4 images at 160-224, so 360 iterations take about
# 1.3x the time of the old 120; the lr stays up until 85% of them (x0.1 at 85% and 95%): bbox / segm AP
# 50.1 / 54.7, squares labelled squares. The same settings at 240 iterations gave 43.3 / 49.9.
DEMO_OPTS = {
    "mask_rcnn": [
        "train.max_iter=360",
        "train.eval_period=360",
        "train.checkpointer.period=360",
        "dataloader.train.total_batch_size=2",
        "dataloader.train.mapper.augmentations.0.short_edge_length=[128,144,160]",
        "dataloader.train.mapper.augmentations.0.max_size=240",
        "dataloader.test.mapper.augmentations.0.short_edge_length=144",
        "dataloader.test.mapper.augmentations.0.max_size=240",
        "lr_multiplier.scheduler.milestones=[85,95,100]",
    ],
}


def train_and_visualize(
    config_file: str | os.PathLike,
    out_dir: str | os.PathLike,
    opts: list[str] | None = None,
    num_images: int = 2,
    score_thresh: float = 0.5,
) -> dict[str, Any]:
    """Trains ``config_file`` into ``out_dir``, evaluates it and draws predictions on the first
    ``num_images`` annotated test images. Returns ``{"results", "pngs", "seconds", "checkpoint"}``."""
    t0 = time.perf_counter()
    cfg = load_config(str(config_file), [f"train.output_dir={out_dir}", *(opts or [])])
    results = do_train(cfg)
    test_name = cfg.dataloader.test.dataset.names
    annotated = [d["file_name"] for d in DatasetCatalog.get(test_name) if d.get("annotations")]
    files = annotated[:num_images]  # images with objects: the drawings show something
    model = _load_final(cfg)
    resize = cfg.dataloader.test.mapper.augmentations[0]
    predictor = LazyPredictor(model, resize.short_edge_length, resize.max_size, cfg.model.input_format)
    pngs = visualize_files(predictor, files, Path(out_dir) / "predictions", test_name, score_thresh)
    return dict(
        results=results,
        pngs=pngs,
        seconds=time.perf_counter() - t0,
        checkpoint=Path(out_dir) / "model_final.pth",
    )


def _load_final(cfg) -> torch.nn.Module:
    from detectron2.checkpoint import DetectionCheckpointer
    from lgvit_det.engine import build_model

    model = build_model(cfg)
    DetectionCheckpointer(model).load(os.path.join(cfg.train.output_dir, "model_final.pth"))
    return model.eval()


def _ap(results: dict[str, Any], task: str) -> str:
    ap = results.get(task, {}).get("AP")
    return f"{ap:5.1f}" if ap is not None else "    -"


def run_demo(
    out_dir: str | os.PathLike = "output/demo_detection",
    configs: dict[str, str] | None = None,
    max_iter: int | None = 120,
) -> dict[str, Any]:
    """Trains and evaluates each demo detector on CPU; prints an AP table; returns the per-detector
    outputs of :func:`train_and_visualize`.

    With ``max_iter`` the demo runs short: a detector with an entry in :data:`DEMO_OPTS` gets that
    schedule, the others their config's 200-iteration schedule shortened to ``max_iter`` (the lr drops
    keep their relative places), so that the whole demo takes a few minutes on two cores; None keeps the
    configs' own schedules."""
    with logs.owned(None, 0, {"detectron2": "d2"}):  # training progress + evaluation tables; removed after
        for quiet in ("lgvit_det", "detectron2.data", "detectron2.checkpoint", "fvcore"):
            logging.getLogger(quiet).setLevel(logging.WARNING)  # no model print, data summaries, chatter
        out_dir = Path(out_dir)
        runs = {}
        for name, cfg_file in (configs or DEMO_CONFIGS).items():
            path = REPO_ROOT / cfg_file if not Path(cfg_file).is_absolute() else Path(cfg_file)
            print(f"-- training {name} ({path.name}) on CPU ...", flush=True)
            opts = []
            if max_iter:
                opts = DEMO_OPTS.get(name) or [
                    f"train.{k}={max_iter}" for k in ("max_iter", "eval_period", "checkpointer.period")
                ]
            runs[name] = train_and_visualize(path, out_dir / name, opts)
        print(f"\n{'detector':<16}{'bbox AP':>9}{'segm AP':>9}{'kpt AP':>9}{'seconds':>9}  predictions")
        for name, run in runs.items():
            r = run["results"]
            print(
                f"{name:<16}{_ap(r, 'bbox'):>9}{_ap(r, 'segm'):>9}{_ap(r, 'keypoints'):>9}"
                f"{run['seconds']:>9.0f}  {run['pngs'][0] if run['pngs'] else '-'}"
            )
    return runs
