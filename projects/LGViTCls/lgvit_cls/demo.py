"""The classification part of the README's main command (``tools/demo.py``): exports the UCI digits
(real handwritten images shipped with scikit-learn), trains the tiny RegionViT of
``configs/classification/digits_regionvit_tiny.py`` on them on CPU and prints the held-out top-1."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from .digits import export_digits
from .engine import REQUIRED, run

REPO_ROOT = Path(__file__).resolve().parents[3]
CONFIG = REPO_ROOT / "configs" / "classification" / "digits_regionvit_tiny.py"


def run_demo(out_dir: str | Path = "output/classification_demo", overrides: list[str] = ()) -> dict[str, Any]:
    """Exports the digits into ``out_dir/digits``, trains into ``out_dir/train`` and returns the held-out
    evaluation (``top1``, ``top5`` in percent, ``num_images``, ``seconds``)."""
    from lgvit_engine import load_config

    out = Path(out_dir)
    t0 = time.time()
    cfg = load_config(CONFIG, list(overrides), required=REQUIRED, kind="classification")
    data = export_digits(out / "digits", size=int(cfg.dataloader.val.transform.input_size))
    print(
        f"== classification: UCI handwritten digits (scikit-learn, real 8x8 scans upsampled to "
        f"{data.size}x{data.size}): {data.num_train} training / {data.num_val} held-out images "
        f"in {data.root} =="
    )
    print(f"== classification: training a tiny RegionViT from scratch ({CONFIG.name}) ==")
    cfg = load_config(
        CONFIG,
        [
            f"dataloader.train.root='{data.train}'",
            f"dataloader.val.root='{data.val}'",
            f"train.output_dir='{out / 'train'}'",
            *overrides,
        ],
        required=REQUIRED,
        kind="classification",
    )
    result = run(cfg)
    result["seconds"] = time.time() - t0
    print(
        f"digits held-out top-1 {result['top1']:.2f}%  top-5 {result['top5']:.2f}%  "
        f"on {result['num_images']} images (chance 10%); checkpoint {out / 'train' / 'model_final.pth'} "
        f"[{result['seconds']:.0f}s]"
    )
    return result
