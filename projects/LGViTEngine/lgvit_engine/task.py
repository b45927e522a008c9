"""What a task supplies to the runtime (see the package docstring for an example)."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from .config import instantiate

__all__ = ["Task"]


class Task:
    """The defaults follow Detectron2's lazy-config trainer (``tools/lazyconfig_train_net.py``): override
    only what differs.

    Attributes:
        name: the task's logger name (its info lines are shown and written to ``output_dir/log.txt``).
        kind: how messages name the task's configs ("detection", "classification", "video").
        required_keys: dotted config keys a config of this task defines (a config without them is
            refused, naming the entry point it looks like it belongs to).
    """

    name = "lgvit_engine"
    kind = ""
    required_keys: tuple[str, ...] = ("model", "train.output_dir")

    @property
    def logger(self) -> logging.Logger:
        return logging.getLogger(self.name)

    # -- command line and checks (in the launching process, before anything starts) --------------------

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Extra command-line flags of the task."""

    def check_config(self, cfg: Any, args: argparse.Namespace) -> None:
        """Task-specific checks of the loaded config; raise a :class:`~lgvit_engine.ConfigError`."""

    # -- what is built ----------------------------------------------------------------------------------

    def build_model(self, cfg: Any) -> nn.Module:
        """The model, on ``cfg.train.device`` (default: ``instantiate(cfg.model)``)."""
        return instantiate(cfg.model)

    def build_optimizer(self, cfg: Any, model: nn.Module) -> torch.optim.Optimizer:
        """Default: Detectron2's protocol (``cfg.optimizer.params.model = model``, then instantiate)."""
        cfg.optimizer.params.model = model
        try:
            return instantiate(cfg.optimizer)
        finally:
            cfg.optimizer.params.model = None

    def max_iter(self, cfg: Any) -> int:
        """Number of optimizer steps (default ``cfg.train.max_iter``; epoch-based tasks compute it)."""
        return int(cfg.train.max_iter)

    def periods(self, cfg: Any) -> dict[str, int]:
        """Iterations between checkpoints, evaluations (0: only at the end) and log lines (default:
        ``train.checkpointer.period``, ``train.eval_period``, ``train.log_period``)."""
        ck = cfg.train.get("checkpointer", {}) or {}
        return dict(
            checkpoint=ck.get("period", self.max_iter(cfg)),
            eval=cfg.train.get("eval_period", 0),
            log=cfg.train.get("log_period", 20),
        )

    def build_train_loader(self, cfg: Any, start_iter: int, seed: int) -> Iterable[Any]:
        """An endless iterator of (micro-)batches starting at optimizer step ``start_iter`` (each step takes
        ``train.accum_steps`` of them): a resumed run continues at the data position where it stopped.
        ``seed``: the run's data seed (``train.seed``, or one drawn and checkpointed when that is < 0);
        the data order and augmentation should be functions of it and the position."""
        raise NotImplementedError

    def loss(self, model: nn.Module, batch: Any) -> Mapping[str, torch.Tensor] | torch.Tensor:
        """The losses of one (micro-)batch (default: ``model(batch)``, Detectron2's convention)."""
        return model(batch)

    def build_hooks(self, cfg: Any, trainer: Any) -> list[Any]:
        """Extra Detectron2 hooks (before the checkpointer: their ``state_dict()`` is checkpointed), e.g.
        :class:`lgvit_engine.train.EMAHook`. ``trainer`` is the :class:`~lgvit_engine.Trainer` (its
        ``optimizer``, ``model`` and ``run_state.counters``: integers checkpointed with the run)."""
        return []

    def lr_scheduler(self, cfg: Any, trainer: Any) -> Any:
        """The scheduler for Detectron2's ``LRScheduler`` hook (default ``instantiate(cfg.lr_multiplier)``;
        None when the task steps its own schedule in a hook)."""
        return instantiate(cfg.lr_multiplier)

    # -- weights and evaluation -------------------------------------------------------------------------

    def load_weights(self, model: nn.Module, path: str) -> dict[str, Any]:
        """Initial weights (``train.init_checkpoint`` / ``--weights``), checked; returns a report."""
        from .weights import load_weights

        return load_weights(model, path)

    def load_eval_weights(self, model: nn.Module, path: str, args: argparse.Namespace, cfg: Any) -> None:
        """Weights to evaluate (``--eval-only``): every parameter of the model must be in them (default);
        no weights at all is refused."""
        from lgvit.checkpoint import CheckpointError

        from .weights import load_weights

        if not path:
            raise CheckpointError(
                "--eval-only needs weights: pass --weights FILE, train.init_checkpoint=FILE, or --resume "
                f"with checkpoints in train.output_dir ({cfg.train.output_dir})"
            )
        load_weights(model, path)

    def save_final_weights(self, cfg: Any, model: nn.Module) -> list[str]:
        """Writes the trained weights for users (main process, after the last iteration): the model's
        state dict as ``train.output_dir/model_final.safetensors``, readable by every weights loader of the
        project and by ``safetensors`` itself. The resumable training state stays in ``model_final.pth``
        (Detectron2's checkpointer). Returns the paths written."""
        from lgvit.checkpoint import save_state_dict

        return [str(save_state_dict(model, Path(cfg.train.output_dir) / "model_final.safetensors"))]

    def evaluate(self, cfg: Any, model: nn.Module) -> dict[str, Any]:
        """Metrics of ``model`` on the task's evaluation data (``{}`` when there is none)."""
        return {}
