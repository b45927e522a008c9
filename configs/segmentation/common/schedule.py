"""The poly learning-rate schedule of the segmentation recipe (paper A.3, power 0.9): the multiplier goes
from 1 to 0 over ``train.max_iter`` (fvcore's ``PolynomialDecayParamScheduler``; Detectron2's
``LRScheduler`` hook stretches it over the run), behind an optional linear warm-up (none in the paper)."""

from detectron2.config import LazyCall as L
from detectron2.solver import WarmupParamScheduler
from fvcore.common.param_scheduler import PolynomialDecayParamScheduler

lr_multiplier = L(WarmupParamScheduler)(
    scheduler=L(PolynomialDecayParamScheduler)(base_value=1.0, power=0.9),
    warmup_length=0.0,
    warmup_method="linear",
    warmup_factor=1.0,
)
