"""Accuracy and metric logging (console on the main rank + ``metrics.json``).

``metrics.json`` has the format of Detectron2's ``JSONWriter`` (the detection trainer's metrics file):
one JSON object per line with its ``iteration``; here also ``kind`` ("train" / "eval") and ``time``."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import torch

logger = logging.getLogger("video")


def topk_correct(scores: torch.Tensor, labels: torch.Tensor, ks: tuple[int, ...] = (1, 5)) -> list[int]:
    """Number of rows whose label is among the ``k`` highest scores, for each k (k capped at the class
    count)."""
    maxk = min(max(ks), scores.shape[1])
    top = scores.topk(maxk, dim=1).indices  # B, maxk
    hit = top.eq(labels[:, None])
    return [int(hit[:, : min(k, maxk)].any(dim=1).sum()) for k in ks]


class MetricWriter:
    """Appends one JSON object per call to ``output_dir/metrics.json`` and logs it (main rank only)."""

    def __init__(self, output_dir: str | Path | None, enabled: bool = True):
        self.enabled = enabled
        self.path = Path(output_dir) / "metrics.json" if output_dir else None
        self.t0 = time.time()

    def write(self, kind: str, iteration: int, **values: Any) -> None:
        if not self.enabled:
            return
        rec = {"iteration": iteration, "kind": kind, "time": round(time.time() - self.t0, 2), **values}
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a") as f:
                f.write(json.dumps(rec) + "\n")
        shown = "  ".join(f"{k}: {v:.4g}" if isinstance(v, float) else f"{k}: {v}" for k, v in values.items())
        logger.info("[%s] %s", kind, shown)
