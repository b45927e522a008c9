"""What a task supplies to the runtime (see the package docstring for an example)."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn
from detectron2.utils import comm

from .config import ConfigError, instantiate
from .data import steps_per_epoch

__all__ = ["EpochTask", "Task"]


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


class EpochTask(Task):
    """A task whose schedule is counted in epochs (classification, video): one iteration is one optimizer
    step, ``max_iter = train.epochs x steps per epoch`` (at most ``train.max_iter`` when a config sets it),
    checkpoints and evaluations every ``train.checkpoint_period`` / ``train.eval_period`` epochs.

    A subclass supplies :meth:`epoch_size` (what each process's training sampler yields per epoch) and may
    name its items for messages (:meth:`epoch_items`).
    """

    def epoch_size(self, cfg: Any) -> int:
        """Training samples this process gets per epoch (the length of its sampler)."""
        raise NotImplementedError

    def epoch_items(self, cfg: Any) -> str:
        """How messages name the training samples (e.g. "training videos")."""
        return "training samples"

    def steps_per_epoch(self, cfg: Any) -> int:
        """Optimizer steps per epoch: ``train.accum_steps`` micro-batches of ``train.batch_size`` each; an
        epoch's last incomplete step is dropped. A batch larger than an epoch is refused."""
        accum = int(cfg.train.get("accum_steps", 1))
        n = self.epoch_size(cfg)
        steps = steps_per_epoch(n, cfg.train.batch_size, accum)
        if steps < 1:
            raise ConfigError(
                f"train.batch_size={cfg.train.batch_size} x train.accum_steps={accum} is more than the {n} "
                f"{self.epoch_items(cfg)} each of the {comm.get_world_size()} process(es) gets per epoch: "
                "lower train.batch_size"
            )
        return steps

    def max_iter(self, cfg: Any) -> int:
        """``train.epochs`` x :meth:`steps_per_epoch`, at most ``train.max_iter`` when that is set (a cap for
        quick runs)."""
        total = int(cfg.train.epochs) * self.steps_per_epoch(cfg)
        cap = cfg.train.get("max_iter")
        return min(total, int(cap)) if cap else total

    def periods(self, cfg: Any) -> dict[str, int]:
        """Checkpoints every ``train.checkpoint_period`` epochs (default 1; 0: only at the end) or, when a
        config sets it, every ``train.checkpointer.period`` iterations (mid-epoch checkpoints); evaluations
        every ``train.eval_period`` epochs (0: only at the end); a log line every ``train.log_period``
        iterations."""
        steps = self.steps_per_epoch(cfg)
        ck = (cfg.train.get("checkpointer") or {}).get("period")
        return dict(
            checkpoint=ck or steps * (cfg.train.get("checkpoint_period", 1) or cfg.train.epochs),
            eval=steps * cfg.train.get("eval_period", 0),
            log=cfg.train.get("log_period", 20),
        )
