"""Learning-rate schedule: linear warmup, then cosine decay to ``min_lr``, stepped per optimizer step."""

from __future__ import annotations

import math

import torch
from torch.optim.lr_scheduler import LambdaLR


def warmup_cosine_factor(step: int, total_steps: int, warmup_steps: int, min_ratio: float) -> float:
    """Multiplier of the base lr at ``step``: ``step/warmup`` during warmup, then cosine from 1 to
    ``min_ratio`` at ``total_steps``."""
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def warmup_cosine(
    optimizer: torch.optim.Optimizer, total_steps: int, warmup_steps: int, min_lr: float
) -> LambdaLR:
    base = max(g["lr"] for g in optimizer.param_groups)
    ratio = min_lr / base if base > 0 else 0.0
    return LambdaLR(optimizer, lambda s: warmup_cosine_factor(s, total_steps, warmup_steps, ratio))
