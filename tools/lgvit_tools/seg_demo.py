"""Segmentation predictions as colour-overlay PNGs, and the segmentation part of the README's main command
(``tools/demo.py``): trains the tiny Semantic FPN and UperNet on the synthetic label maps on CPU, evaluates
them with ``SemSegEvaluator`` (mIoU, pixel accuracy) and draws predictions."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn as nn
from detectron2.data import DatasetCatalog, MetadataCatalog
from detectron2.data import transforms as T
from detectron2.data.detection_utils import read_image
from detectron2.utils.visualizer import Visualizer
from lgvit_det.engine import build_model, do_test, do_train, load_config
from lgvit_engine import logs
from PIL import Image

__all__ = [
    "SEG_DEMO_CONFIGS",
    "SemSegPredictor",
    "draw_sem_seg",
    "evaluate_untrained",
    "load_final",
    "run_seg_demo",
    "train_and_visualize_seg",
    "visualize_seg_files",
]

from . import REPO_ROOT

SEG_DEMO_CONFIGS = {
    "semantic_fpn": "configs/segmentation/semantic_fpn_regionvit_tiny_shapes.py",
    "upernet": "configs/segmentation/upernet_regionvit_tiny_shapes.py",
}


class SemSegPredictor:
    """Runs a semantic segmentor on single RGB images ``(H, W, 3)`` uint8 with a config's test-time resize
    (``min_size`` / ``max_size``); returns the ``(H, W)`` class map at the image's own size."""

    def __init__(self, model: nn.Module, min_size: int, max_size: int):
        self.model = model.eval()
        self.aug = T.ResizeShortestEdge([min_size, min_size], max_size)

    @torch.no_grad()
    def __call__(self, image_rgb: np.ndarray) -> np.ndarray:
        if image_rgb.ndim != 3 or image_rgb.shape[2] != 3:
            raise ValueError(f"expected an RGB image (H, W, 3), got shape {image_rgb.shape}")
        h, w = image_rgb.shape[:2]
        img = self.aug.get_transform(image_rgb).apply_image(image_rgb)
        tensor = torch.as_tensor(np.ascontiguousarray(img.transpose(2, 0, 1)))
        logits = self.model([{"image": tensor, "height": h, "width": w}])[0]["sem_seg"]
        return logits.argmax(dim=0).cpu().numpy()


def draw_sem_seg(image_rgb: np.ndarray, classes: np.ndarray, metadata, min_side: int = 480) -> np.ndarray:
    """The class map ``(H, W)`` as a translucent colour overlay with class names over ``image_rgb``
    (Detectron2's ``Visualizer.draw_sem_seg``), next to the plain image; upscaled so that the longer side
    is at least ``min_side``. Returns ``(s*H, 2*s*W, 3)`` uint8."""
    scale = max(1.0, min_side / max(image_rgb.shape[:2]))
    overlay = Visualizer(image_rgb, metadata, scale=scale).draw_sem_seg(classes, alpha=0.6).get_image()
    plain = np.asarray(Image.fromarray(image_rgb).resize(overlay.shape[1::-1], Image.BILINEAR))
    return np.concatenate([plain, overlay], axis=1)


def visualize_seg_files(
    predictor: SemSegPredictor,
    files: Iterable[str | os.PathLike],
    out_dir: str | os.PathLike,
    dataset_name: str,
) -> list[Path]:
    """Writes ``out_dir/<stem>.png`` (image | prediction overlay) for each image file; returns the paths.
    Class names and colours come from ``dataset_name``'s metadata (``stuff_classes``, ``stuff_colors``)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    meta = MetadataCatalog.get(dataset_name)
    pngs = []
    for f in files:
        image = read_image(str(f), format="RGB")
        drawing = draw_sem_seg(image, predictor(image), meta)
        path = out_dir / f"{Path(f).stem}.png"
        Image.fromarray(drawing).save(path)
        pngs.append(path)
    return pngs


def load_final(cfg, weights: str | os.PathLike | None = None) -> nn.Module:
    """``cfg.model`` with ``weights`` (default: ``train.output_dir/model_final.pth``), in eval mode."""
    from detectron2.checkpoint import DetectionCheckpointer

    model = build_model(cfg)
    DetectionCheckpointer(model).load(str(weights or Path(cfg.train.output_dir) / "model_final.pth"))
    return model.eval()


def _predictor(cfg, model: nn.Module) -> SemSegPredictor:
    resize = cfg.dataloader.test.mapper.augmentations[0]
    return SemSegPredictor(model, resize.short_edge_length, resize.max_size)


def evaluate_untrained(config_file: str | os.PathLike, opts: list[str] | None = None) -> dict[str, Any]:
    """``SemSegEvaluator`` metrics of the config's model at its (seeded) initialisation: the baseline."""
    cfg = load_config(str(config_file), list(opts or []))
    torch.manual_seed(max(0, int(cfg.train.get("seed", 0))))
    return do_test(cfg, build_model(cfg).eval())


def train_and_visualize_seg(
    config_file: str | os.PathLike,
    out_dir: str | os.PathLike,
    opts: list[str] | None = None,
    num_images: int = 2,
) -> dict[str, Any]:
    """Trains ``config_file`` into ``out_dir``, evaluates it and draws predictions for the first
    ``num_images`` test images. Returns ``{"results", "pngs", "seconds", "checkpoint"}``."""
    t0 = time.perf_counter()
    cfg = load_config(str(config_file), [f"train.output_dir={out_dir}", *(opts or [])])
    results = do_train(cfg)
    test_name = cfg.dataloader.test.dataset.names
    files = [d["file_name"] for d in DatasetCatalog.get(test_name)][:num_images]
    pngs = visualize_seg_files(
        _predictor(cfg, load_final(cfg)), files, Path(out_dir) / "predictions", test_name
    )
    return dict(
        results=results,
        pngs=pngs,
        seconds=time.perf_counter() - t0,
        checkpoint=Path(out_dir) / "model_final.pth",
    )


def run_seg_demo(
    out_dir: str | os.PathLike = "output/demo_segmentation",
    configs: dict[str, str] | None = None,
    max_iter: int | None = None,
) -> dict[str, Any]:
    """Trains and evaluates each demo segmentor on CPU; prints an mIoU table (untrained vs trained);
    returns the outputs of :func:`train_and_visualize_seg` plus ``"untrained"`` metrics per model."""
    with logs.owned(None, 0, {"detectron2": "d2"}):  # training progress + evaluation tables; removed after
        for quiet in ("lgvit_det", "detectron2.data", "detectron2.checkpoint", "fvcore"):
            logging.getLogger(quiet).setLevel(logging.WARNING)
        out_dir = Path(out_dir)
        runs = {}
        for name, cfg_file in (configs or SEG_DEMO_CONFIGS).items():
            path = REPO_ROOT / cfg_file if not Path(cfg_file).is_absolute() else Path(cfg_file)
            opts = (
                [f"train.{k}={max_iter}" for k in ("max_iter", "eval_period", "checkpointer.period")]
                if max_iter
                else []
            )
            print(f"-- training {name} ({path.name}) on CPU ...", flush=True)
            untrained = evaluate_untrained(path, opts)
            runs[name] = train_and_visualize_seg(path, out_dir / name, opts)
            runs[name]["untrained"] = untrained
        print(f"\n{'segmentor':<16}{'mIoU':>8}{'pACC':>8}{'untrained mIoU':>16}{'seconds':>9}  predictions")
        for name, run in runs.items():
            r, u = run["results"]["sem_seg"], run["untrained"]["sem_seg"]
            print(
                f"{name:<16}{r['mIoU']:>8.1f}{r['pACC']:>8.1f}{u['mIoU']:>16.1f}{run['seconds']:>9.0f}  "
                f"{run['pngs'][0] if run['pngs'] else '-'}"
            )
    return runs
