"""Optimizer parameter groups for a whole detector.

Which backbone parameters get no weight decay is declared by the lgvit model itself
(``no_weight_decay()``: relative-position tables, tokens) and collected by
:func:`lgvit.optim.no_decay_names`, which walks every submodule, so the same call covers the detector:
the lgvit backbone's declarations appear under their ``backbone.bottom_up.model.`` prefix, and norms
and biases (``ndim <= 1``) anywhere in FPN and heads are caught by the same rule. Nothing is re-listed
here.
"""

from __future__ import annotations

from typing import Any

import torch.nn as nn

from lgvit.optim import no_decay_names

__all__ = ["detector_param_groups"]


def detector_param_groups(
    model: nn.Module, weight_decay: float = 0.05, base_lr: float | None = None
) -> list[dict[str, Any]]:
    """Two groups for ``torch.optim.AdamW``: trainable parameters with ``weight_decay``, and those
    declared no-decay (norms, biases, rel-pos tables, tokens) with 0. Frozen parameters are left out.

    ``model`` is filled in by the trainer (``cfg.optimizer.params.model = model``, the protocol of
    Detectron2's lazy-config trainers). ``base_lr``, if given, is written into each group.
    """
    skip = no_decay_names(model)
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (no_decay if name in skip else decay).append(p)
    groups = [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    if base_lr is not None:
        for g in groups:
            g["lr"] = base_lr
    return [g for g in groups if g["params"]]
