"""Multi-view evaluation: every video's crops (x temporal clips) are classified, their softmax scores
averaged (RegionViT A.4: three 224 crops after resizing the shorter side to 256); writes per-video
predictions and returns top-1 / top-5."""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn
from detectron2.utils import comm

from .data import DataError

logger = logging.getLogger("video")


def view_scores(model: nn.Module, videos: torch.Tensor, amp_dtype: torch.dtype | None = None) -> torch.Tensor:
    """``(B, K, C, T, H, W)`` (K views per video) or ``(B, C, T, H, W)`` -> softmax averaged over the
    views ``(B, num_classes)``."""
    if videos.ndim == 5:
        videos = videos[:, None]
    B, K = videos.shape[:2]
    ctx = torch.autocast(videos.device.type, dtype=amp_dtype) if amp_dtype else nullcontext()
    with ctx:
        logits = model(videos.flatten(0, 1))  # B*K, classes
    return logits.float().softmax(-1).view(B, K, -1).mean(1)


def topk_correct(scores: torch.Tensor, labels: torch.Tensor, ks: tuple[int, ...] = (1, 5)) -> list[int]:
    """Number of rows whose label is among the ``k`` highest scores, for each k (k capped at the class
    count)."""
    maxk = min(max(ks), scores.shape[1])
    top = scores.topk(maxk, dim=1).indices  # B, maxk
    hit = top.eq(labels[:, None])
    return [int(hit[:, : min(k, maxk)].any(dim=1).sum()) for k in ks]


@torch.no_grad()
def evaluate(
    model: nn.Module,
    loader: Iterable[dict[str, Any]],
    classes: Sequence[str],
    device: torch.device,
    output_dir: str | Path | None = None,
    amp_dtype: torch.dtype | None = None,
    is_main: bool = True,
    prefix: str = "predictions",
) -> dict[str, Any]:
    """Runs every rank's share, gathers per-video scores on all ranks, and (main rank) writes
    ``<prefix>.csv`` / ``<prefix>.json``. Returns ``top1``, ``top5`` (percent), ``num_videos``,
    ``skipped``."""
    was_training = model.training
    model.eval()
    rows, skipped = [], []
    for batch in loader:
        skipped += batch["skipped"]
        if batch["video"] is None:
            continue
        scores = view_scores(model, batch["video"].to(device, non_blocking=True), amp_dtype).cpu()
        for i, idx in enumerate(batch["video_index"]):
            rows.append((idx, batch["video_name"][i], int(batch["label"][i]), scores[i]))
    model.train(was_training)
    gathered = comm.all_gather((rows, skipped))
    by_index = {r[0]: r for part, _ in gathered for r in part}  # sampler padding repeats videos
    rows = [by_index[k] for k in sorted(by_index)]
    skipped = sorted({s for _, part in gathered for s in part})
    if not rows:
        raise DataError(f"no video could be evaluated ({len(skipped)} unreadable, e.g. {skipped[:3]})")
    scores = torch.stack([r[3] for r in rows])
    labels = torch.tensor([r[2] for r in rows])
    c1, c5 = topk_correct(scores, labels, (1, 5))
    result = {
        "top1": 100.0 * c1 / len(rows),
        "top5": 100.0 * c5 / len(rows),
        "num_videos": len(rows),
        "skipped": len(skipped),
    }
    if is_main and output_dir is not None:
        write_predictions(Path(output_dir), prefix, rows, classes, result, skipped)
    return result


def write_predictions(
    out: Path,
    prefix: str,
    rows: list[tuple],
    classes: Sequence[str],
    result: dict[str, Any],
    skipped: list[str],
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    k = min(5, len(classes))
    records = []
    for _, name, label, score in rows:
        top = score.topk(k)
        records.append(
            {
                "video": name,
                "label": label,
                "label_name": classes[label] if 0 <= label < len(classes) else str(label),
                "pred": int(top.indices[0]),
                "pred_name": classes[int(top.indices[0])],
                "score": round(float(top.values[0]), 6),
                "top5": [int(i) for i in top.indices],
                "top5_scores": [round(float(v), 6) for v in top.values],
            }
        )
    with (out / f"{prefix}.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(records[0]))
        w.writeheader()
        for r in records:
            w.writerow(
                {
                    **r,
                    "top5": " ".join(map(str, r["top5"])),
                    "top5_scores": " ".join(map(str, r["top5_scores"])),
                }
            )
    (out / f"{prefix}.json").write_text(
        json.dumps({"metrics": result, "skipped": skipped, "videos": records}, indent=1)
    )
    logger.info("wrote per-video predictions to %s.{csv,json}", out / prefix)
