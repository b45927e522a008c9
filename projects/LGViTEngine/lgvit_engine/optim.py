"""The one optimizer parameter-group builder of every task: timm's ``param_groups_weight_decay`` (no weight
decay on norms and biases, ``ndim <= 1``), fed with what the model declares in ``no_weight_decay()``
(relative-position tables, tokens), collected over every submodule so the same call covers a detector
(the backbone's declarations appear under its ``backbone.bottom_up.model.`` prefix) or a video model."""

from __future__ import annotations

from typing import Any

import torch.nn as nn
from timm.optim import param_groups_weight_decay

__all__ = ["no_decay_names", "param_groups"]


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


def param_groups(
    model: nn.Module, weight_decay: float = 0.05, base_lr: float | None = None
) -> list[dict[str, Any]]:
    """Two groups (frozen parameters left out): trainable parameters with ``weight_decay``, and those in
    :func:`no_decay_names` with 0. ``model`` is filled in by the trainer (``cfg.optimizer.params.model =
    model``, Detectron2's lazy-config protocol); ``base_lr``, if given, is written into each group."""
    groups = param_groups_weight_decay(model, weight_decay, no_weight_decay_list=no_decay_names(model))
    groups.sort(key=lambda g: -g["weight_decay"])  # the decayed group first
    if base_lr is not None:
        for g in groups:
            g["lr"] = base_lr
    return [g for g in groups if g["params"]]
