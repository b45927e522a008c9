"""Accuracy, and the metrics log shared by every lgvit trainer (:class:`lgvit.metric_writer.MetricWriter`)."""

from __future__ import annotations

import logging
from functools import partial

import torch

from lgvit.metric_writer import MetricWriter as _MetricWriter

logger = logging.getLogger("video")
MetricWriter = partial(_MetricWriter, logger_name="video")  # video runs log under "video"


def topk_correct(scores: torch.Tensor, labels: torch.Tensor, ks: tuple[int, ...] = (1, 5)) -> list[int]:
    """Number of rows whose label is among the ``k`` highest scores, for each k (k capped at the class
    count)."""
    maxk = min(max(ks), scores.shape[1])
    top = scores.topk(maxk, dim=1).indices  # B, maxk
    hit = top.eq(labels[:, None])
    return [int(hit[:, : min(k, maxk)].any(dim=1).sum()) for k in ks]
