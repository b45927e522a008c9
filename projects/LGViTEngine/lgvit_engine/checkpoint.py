"""Training checkpoints of every task: Detectron2's ``DetectionCheckpointer`` (fvcore) with

* atomic saves: a checkpoint is written to ``<name>.pth.tmp`` and renamed into place, so a kill during a
  save never leaves a truncated ``model_*.pth``; a ``*.tmp`` left by a killed save is removed (with a log
  line) when the next run opens the folder;
* ``--resume`` from the newest intact checkpoint (:func:`resume_checkpoint`): the one ``last_checkpoint``
  names when it reads back intact (:func:`lgvit_engine.weights.read_weights`, the one reader: CRC-checked),
  else the newest intact ``model_*.pth`` with a warning naming the damaged file.

What a checkpoint holds: ``model``, ``optimizer``, ``scaler`` (AMP), ``iteration`` and the state of every
hook (the LR schedule, EMA, the RNG states, the data seed and task counters: see
:mod:`lgvit_engine.train`), so a resumed run continues exactly where the interrupted one stopped.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

import torch
from detectron2.checkpoint import DetectionCheckpointer

from lgvit.checkpoint import CheckpointError

from .weights import read_weights

__all__ = ["Checkpointer", "checkpoint_damage", "resume_checkpoint"]

logger = logging.getLogger("lgvit_engine")


class Checkpointer(DetectionCheckpointer):
    """``DetectionCheckpointer`` with atomic saves, stale ``.tmp`` clean-up and the checked reader."""

    def __init__(self, model: torch.nn.Module, save_dir: str = "", **kwargs: Any):
        super().__init__(model, save_dir, **kwargs)
        if save_dir and self.save_to_disk and os.path.isdir(save_dir):
            for tmp in Path(save_dir).glob("*.tmp"):
                logger.info("removing %s, left by a save that was interrupted", tmp)
                tmp.unlink(missing_ok=True)

    def save(self, name: str, **kwargs: Any) -> None:
        if not self.save_dir or not self.save_to_disk:
            return
        data = {"model": self.model.state_dict()}
        for key, obj in self.checkpointables.items():
            data[key] = obj.state_dict()
        data.update(kwargs)
        basename = f"{name}.pth"
        path = os.path.join(self.save_dir, basename)
        tmp = path + ".tmp"
        self.logger.info("Saving checkpoint to %s", path)
        os.makedirs(self.save_dir, exist_ok=True)
        try:
            torch.save(data, tmp)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        self.tag_last_checkpoint(basename)

    def _load_file(self, filename: str) -> Any:
        if filename.endswith((".pkl", ".pyth")) or not os.path.isfile(filename):
            return super()._load_file(filename)  # Detectron2 model-zoo formats
        loaded = read_weights(filename)
        if isinstance(loaded, dict) and "model" in loaded:
            return loaded
        return {"model": loaded}


def checkpoint_damage(path: str | os.PathLike) -> str | None:
    """Why ``path`` cannot be read back (missing, empty, truncated, damaged: the reader's message), or None
    when it is intact."""
    try:
        read_weights(path)
    except FileNotFoundError:
        return "does not exist"
    except CheckpointError as e:
        return str(e)
    return None


def _iteration(p: Path) -> int:
    m = re.fullmatch(r"model_(\d+)\.pth", p.name)
    return int(m.group(1)) if m else -1


def resume_checkpoint(output_dir: str | os.PathLike) -> str | None:
    """The checkpoint to resume from in ``output_dir``: the one ``last_checkpoint`` names when intact,
    else the newest intact ``model_<iter>.pth`` (warning naming the damaged file). None without any
    checkpoint; :class:`~lgvit.checkpoint.CheckpointError` when there are some but none is intact."""
    out = Path(output_dir)
    marker = out / "last_checkpoint"
    latest = out / marker.read_text().strip() if marker.is_file() else None
    candidates = sorted(
        out.glob("model_*.pth"), key=lambda p: (_iteration(p), p.stat().st_mtime), reverse=True
    )
    if latest is not None:
        candidates = [latest] + [p for p in candidates if p != latest]
    damaged = []
    for p in candidates:
        why = checkpoint_damage(p)
        if why is None:
            if damaged:
                logger.warning("resuming from %s instead of the newer, damaged: %s", p, "; ".join(damaged))
            return str(p)
        damaged.append(f"{p.name}: {why}")
        logger.warning("cannot resume from %s: %s", p, why)
    if damaged:
        raise CheckpointError(
            f"no intact checkpoint to resume from in {out}:\n  "
            + "\n  ".join(damaged)
            + "\nDelete the damaged file(s) (and last_checkpoint) to start from scratch."
        )
    return None
