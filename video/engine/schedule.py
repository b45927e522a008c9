"""Learning-rate schedule from a config object, as in the detection configs.

``cfg.lr_multiplier`` is an fvcore ``ParamScheduler``: a function of training progress in ``[0, 1)``
giving the multiplier of each parameter group's base lr (Detectron2's ``LRMultiplier`` does the same).
It is stepped once per optimizer step.
"""

from __future__ import annotations

import torch
from fvcore.common.param_scheduler import ParamScheduler
from torch.optim.lr_scheduler import LambdaLR


def lr_schedule(optimizer: torch.optim.Optimizer, multiplier: ParamScheduler, total_steps: int) -> LambdaLR:
    """A ``LambdaLR`` applying ``multiplier(step / total_steps)``."""
    if total_steps < 1:
        raise ValueError(f"the schedule needs at least one step, got total_steps={total_steps}")
    return LambdaLR(optimizer, lambda step: float(multiplier(min(step, total_steps - 1) / total_steps)))
