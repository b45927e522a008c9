"""Training checkpoints: model, optimizer, scheduler, AMP scaler and the position in training."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

logger = logging.getLogger(__name__)

LAST = "last.pth"


def unwrap(model: nn.Module) -> nn.Module:
    return model.module if hasattr(model, "module") else model


def save_checkpoint(path: str | Path, model: nn.Module, **state: Any) -> None:
    """Writes ``{"model": state_dict, **state}`` atomically (write + rename), so a crash never leaves a
    half-written ``last.pth``. ``state`` values with ``state_dict()`` are saved through it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    obj = {"model": unwrap(model).state_dict()}
    for k, v in state.items():
        obj[k] = v.state_dict() if hasattr(v, "state_dict") else v
    tmp = path.with_suffix(".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    return torch.load(path, map_location="cpu", weights_only=False)


def load_video_weights(model: nn.Module, path: str | Path) -> None:
    """Loads a video checkpoint's model weights (a training checkpoint or a bare state dict), strictly."""
    obj = load_checkpoint(path)
    sd = obj.get("model", obj)
    from lgvit.models.regionvit import load_checked

    load_checked(unwrap(model), sd, strict=True)
    logger.info("loaded video weights from %s", path)
