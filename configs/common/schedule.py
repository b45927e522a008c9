"""Learning-rate multipliers of Detectron2's 1x / 3x schedules (batch 16): linear warm-up over 1,000
iterations from 0.001, then x0.1 twice. 1x: drops at 60k and 80k of 90k (paper A.2); 3x: at 210k and
250k of 270k (official ``*_3x_ms.yaml``). The milestones are fractions of ``train.max_iter``, so a
shorter run keeps the same shape."""

from detectron2.config import LazyCall as L
from detectron2.solver import WarmupParamScheduler
from fvcore.common.param_scheduler import MultiStepParamScheduler


def step_schedule(max_iter: int, steps: tuple, warmup_iters: int = 1000):
    """Describes (never builds) a warm-up + multi-step multiplier for ``max_iter`` iterations."""
    return L(WarmupParamScheduler)(
        scheduler=L(MultiStepParamScheduler)(values=[1.0, 0.1, 0.01], milestones=[*steps, max_iter]),
        warmup_length=warmup_iters / max_iter,
        warmup_method="linear",
        warmup_factor=0.001,
    )


lr_multiplier_1x = step_schedule(90000, (60000, 80000))
lr_multiplier_3x = step_schedule(270000, (210000, 250000))
