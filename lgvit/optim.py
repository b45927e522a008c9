"""Optimizer parameter groups: which parameters get weight decay is declared by the model."""

from __future__ import annotations

from typing import Any

import torch.nn as nn


def no_decay_names(model: nn.Module) -> set[str]:
    """Names of parameters trained without weight decay: norms and biases (ndim <= 1), and whatever
    the model (or any submodule) lists in ``no_weight_decay()`` (rel-pos tables, tokens)."""
    names = set()
    for prefix, module in model.named_modules():
        if hasattr(module, "no_weight_decay"):
            names |= {f"{prefix}.{n}" if prefix else n for n in module.no_weight_decay()}
    for name, p in model.named_parameters():
        if p.ndim <= 1 or name.endswith(".bias"):
            names.add(name)
    return names


def param_groups_weight_decay(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """Two optimizer groups: with ``weight_decay``, and without (see :func:`no_decay_names`)."""
    skip = no_decay_names(model)
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (no_decay if name in skip else decay).append(p)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
