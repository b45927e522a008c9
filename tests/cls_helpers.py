"""Shared helpers of the classification tests: tiny generated image folders and config loading."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from lgvit_cls import REQUIRED
from lgvit_engine import load_config
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
CLS_CONFIGS = REPO / "configs" / "classification"
DIGITS_CONFIG = CLS_CONFIGS / "digits_regionvit_tiny.py"


def make_folder(
    root: Path, classes=("a", "b", "c"), per_class: int = 6, size: int = 32, seed: int = 0
) -> Path:
    """``root/<class>/<i>.png``: a bright square whose position codes the class, plus noise."""
    rng = np.random.RandomState(seed)
    for c, name in enumerate(classes):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            img = rng.randint(0, 60, (size, size, 3)).astype(np.uint8)
            x0 = (c * size // len(classes)) % (size - 8)
            img[4:12, x0 : x0 + 8] = 255
            Image.fromarray(img).save(root / name / f"{i:03d}.png")
    return root


def tiny_config(train_root: Path, val_root: Path, out: Path, *overrides: str):
    """The digits config on a generated folder: 3 classes, small batches, 1 epoch, evaluation at the end."""
    return load_config(
        DIGITS_CONFIG,
        [
            f"dataloader.train.root='{train_root}'",
            f"dataloader.val.root='{val_root}'",
            f"train.output_dir='{out}'",
            "model.num_classes=3",
            "train.epochs=1",
            "train.batch_size=6",
            "train.val_batch_size=8",
            "scheduler.warmup_epochs=0",
            "train.log_period=1",
            *overrides,
        ],
        required=REQUIRED,
        kind="classification",
    )
