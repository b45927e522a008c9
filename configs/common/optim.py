"""AdamW of the paper's detection recipe (A.2): lr 1e-4, weight decay 0.05 with none on norms, biases,
relative-position tables and tokens (declared by the lgvit model; :func:`lgvit_det.detector_param_groups`).
The trainer sets ``optimizer.params.model`` before instantiating (Detectron2's lazy-config protocol)."""

import torch
from detectron2.config import LazyCall as L
from lgvit_det import detector_param_groups

AdamW = L(torch.optim.AdamW)(
    params=L(detector_param_groups)(weight_decay="${..weight_decay}"),
    lr=1e-4,
    betas=(0.9, 0.999),
    weight_decay=0.05,
)
