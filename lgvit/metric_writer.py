"""The metrics log every lgvit trainer writes (video, classification; detection uses Detectron2's).

``output_dir/metrics.json`` has the format of Detectron2's ``JSONWriter`` (the detection trainer's
metrics file): one JSON object per line with its ``iteration``; here also ``kind`` ("train" / "eval")
and ``time`` (seconds since the writer started). Each record is also logged on the console.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

__all__ = ["METRICS_FILE", "MetricWriter"]

METRICS_FILE = "metrics.json"


class MetricWriter:
    """Appends one JSON object per call to ``output_dir/metrics.json`` and logs it (main rank only)."""

    def __init__(self, output_dir: str | Path | None, enabled: bool = True, logger_name: str = "lgvit"):
        self.enabled = enabled
        self.path = Path(output_dir) / METRICS_FILE if output_dir else None
        self.logger = logging.getLogger(logger_name)
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
        self.logger.info("[%s] %s", kind, shown)
