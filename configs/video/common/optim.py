import torch
from detectron2.config import LazyCall as L
from detectron2.solver import WarmupParamScheduler
from fvcore.common.param_scheduler import CosineParamScheduler
from lgvit_engine import param_groups

# RegionViT A.4: AdamW, base lr 2e-4, weight decay 1e-4 (no decay on norms, biases, rel-pos tables,
# time embedding; declared once, the parameter groups read it). The runner sets params.model.
optimizer = L(torch.optim.AdamW)(
    params=L(param_groups)(weight_decay="${..weight_decay}"),
    lr=2e-4,
    betas=(0.9, 0.999),
    weight_decay=1e-4,
)

# The paper gives optimizer, lr, wd, input and test protocol, not the schedule: linear warm-up over the
# first 2 of 30 epochs, then cosine decay to 1e-6 / 2e-4 of the base lr (TimeSformer-like). As in the
# detection configs, a function of training progress in [0, 1).
lr_multiplier = L(WarmupParamScheduler)(
    scheduler=L(CosineParamScheduler)(start_value=1.0, end_value=1e-6 / 2e-4),
    warmup_length=2 / 30,
    warmup_method="linear",
    warmup_factor=0.001,
)
