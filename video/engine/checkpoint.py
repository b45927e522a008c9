"""Training checkpoints: model, optimizer, scheduler, AMP scaler and the position in training."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from lgvit.checkpoint import CheckpointError, load_state_dict, read_checkpoint, read_state_dict

logger = logging.getLogger(__name__)

LAST = "last.pth"
# the checkpoint ``last.pth`` replaced: what --resume falls back to when ``last.pth`` is damaged
PREVIOUS = "last.prev.pth"


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
    if path.name == LAST and path.is_file():
        os.replace(path, path.with_name(PREVIOUS))  # kept: the fallback if last.pth is ever damaged
    os.replace(tmp, path)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """A training checkpoint (weights, optimizer/scheduler/scaler state, position), read without executing
    code; damaged, empty or foreign files get :class:`lgvit.checkpoint.CheckpointError` naming them."""
    obj = read_checkpoint(path)
    if not isinstance(obj, dict) or "model" not in obj:
        raise CheckpointError(f"{path} is not a video training checkpoint (no 'model' entry)")
    return obj


def load_resume_checkpoint(output_dir: str | Path) -> tuple[Path, dict[str, Any]] | None:
    """The newest intact training checkpoint in ``output_dir``: ``last.pth``, or, when that is damaged
    (truncated copy, full disk), the one it replaced (``last.prev.pth``) with a warning naming the damaged
    file. None when there is neither; a :class:`CheckpointError` naming every damaged file when no
    checkpoint there is intact."""
    damaged: list[str] = []
    for name in (LAST, PREVIOUS):
        path = Path(output_dir) / name
        if not path.is_file():
            continue
        try:
            ck = load_checkpoint(path)
        except CheckpointError as e:
            logger.warning("cannot resume from %s: %s", path, e)
            damaged.append(str(e))
            continue
        if damaged:
            logger.warning("resuming from the previous checkpoint %s instead (one save earlier)", path)
        return path, ck
    if damaged:
        raise CheckpointError(
            f"no intact checkpoint to resume from in {output_dir}:\n  "
            + "\n  ".join(damaged)
            + "\nDelete the damaged file(s) to start from scratch, or resume from a copy."
        )
    return None


def load_video_weights(model: nn.Module, path: str | Path) -> None:
    """Loads a video checkpoint's model weights (a training checkpoint or a bare state dict), strictly."""
    load_state_dict(unwrap(model), read_state_dict(path), strict=True, what="the video model")
    logger.info("loaded video weights from %s", path)
