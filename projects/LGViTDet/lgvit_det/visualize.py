"""Drawing predictions (boxes, masks, keypoints) with Detectron2's ``Visualizer``, and a small predictor
for lazy-config models (Detectron2's ``DefaultPredictor`` needs a yacs config)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from detectron2.data import DatasetCatalog, MetadataCatalog
from detectron2.data import transforms as T
from detectron2.data.detection_utils import read_image
from detectron2.structures import Instances
from detectron2.utils.visualizer import ColorMode, Visualizer
from PIL import Image

__all__ = ["LazyPredictor", "dataset_metadata", "draw_predictions", "visualize_files", "IMAGE_SUFFIXES"]

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


class LazyPredictor:
    """Runs a detector on single RGB images ``(H, W, 3)`` uint8 with the test-time resize of a config.

    Args:
        model: a Detectron2 meta-architecture (moved to eval mode here).
        min_size, max_size: shorter/longer side of the test-time resize (the config's test mapper).
        input_format: the model's ``input_format`` ("RGB" or "BGR").
    """

    def __init__(self, model: nn.Module, min_size: int, max_size: int, input_format: str = "RGB"):
        self.model = model.eval()
        self.aug = T.ResizeShortestEdge([min_size, min_size], max_size)
        self.input_format = input_format

    @torch.no_grad()
    def __call__(self, image_rgb: np.ndarray) -> Instances:
        if image_rgb.ndim != 3 or image_rgb.shape[2] != 3:
            raise ValueError(f"expected an RGB image (H, W, 3), got shape {image_rgb.shape}")
        h, w = image_rgb.shape[:2]
        img = image_rgb if self.input_format == "RGB" else image_rgb[:, :, ::-1]
        img = self.aug.get_transform(img).apply_image(img)
        tensor = torch.as_tensor(np.ascontiguousarray(img.transpose(2, 0, 1))).float()
        return self.model([{"image": tensor, "height": h, "width": w}])[0]["instances"].to("cpu")


def draw_predictions(
    image_rgb: np.ndarray, instances: Instances, metadata, score_thresh: float = 0.5, min_side: int = 480
) -> np.ndarray:
    """Boxes, class names with scores, masks and keypoints of the instances scoring >= ``score_thresh``
    drawn over ``image_rgb`` ``(H, W, 3)`` uint8; returns the drawing ``(s*H, s*W, 3)`` uint8, upscaled
    by ``s >= 1`` so that the longer side is at least ``min_side`` (labels stay readable)."""
    keep = instances[instances.scores >= score_thresh] if instances.has("scores") else instances
    scale = max(1.0, min_side / max(image_rgb.shape[:2]))
    vis = Visualizer(image_rgb, metadata, scale=scale, instance_mode=ColorMode.IMAGE)
    return vis.draw_instance_predictions(keep).get_image()


def _image_files(inputs: Iterable[str | os.PathLike]) -> list[Path]:
    files: list[Path] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            files += sorted(f for f in p.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
        elif p.is_file():
            files.append(p)
        else:
            raise FileNotFoundError(f"input {p} is neither an image file nor a directory")
    if not files:
        raise FileNotFoundError(f"no images ({', '.join(IMAGE_SUFFIXES)}) found in {list(map(str, inputs))}")
    return files


def dataset_metadata(name: str):
    """``MetadataCatalog.get(name)`` with the class names filled in: datasets registered with
    ``register_coco_instances`` get ``thing_classes`` only when their json is loaded, so it is loaded here
    when they are missing (else drawings would say class indices instead of names)."""
    meta = MetadataCatalog.get(name)
    if meta.get("thing_classes", None) is None and name in DatasetCatalog.list():
        DatasetCatalog.get(name)  # load_coco_json sets thing_classes (and the id map)
    return meta


def visualize_files(
    predictor: LazyPredictor,
    inputs: Iterable[str | os.PathLike],
    out_dir: str | os.PathLike,
    metadata_name: str,
    score_thresh: float = 0.5,
    skipped: list[tuple[Path, str]] | None = None,
) -> list[Path]:
    """Predicts on every image (files or directories of images) and writes ``out_dir/<stem>.png``.

    Grayscale and RGBA files are converted to RGB. An image that cannot be read is skipped with a warning
    (and appended as ``(path, reason)`` to ``skipped`` when given); the others are still drawn. Returns the
    written paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    metadata = dataset_metadata(metadata_name)
    written = []
    for f in _image_files(inputs):
        try:
            image = read_image(str(f), format="RGB")
        except (OSError, ValueError, SyntaxError) as e:  # truncated, damaged, not an image
            logger.warning("skipping %s: cannot read it as an image (%s: %s)", f, type(e).__name__, e)
            if skipped is not None:
                skipped.append((f, f"{type(e).__name__}: {e}"))
            continue
        drawing = draw_predictions(image, predictor(image), metadata, score_thresh)
        path = out / f"{f.stem}.png"
        Image.fromarray(drawing).save(path)
        written.append(path)
    return written
