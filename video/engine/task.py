"""The video task on the one training runtime (:mod:`lgvit_engine`): what is video's own -- datasets and
their resumable, sharded loader, mixup/cutmix + soft cross-entropy, the multi-clip x 3-crop evaluation
with per-video predictions, the skipped-video counter -- and nothing else (loop, checkpoints, writers,
launch, settings checks are the runtime's).

A video config defines ``model`` (``L(build_video_model)``), ``dataloader.train`` / ``dataloader.test``
(clip datasets, :mod:`video.data`), ``optimizer``, ``lr_multiplier`` (a function of training progress),
``mixup`` (or None) and ``train`` (``configs/video/common/train.py``: the runtime's keys, plus
``epochs``, ``batch_size``, ``test_batch_size``, ``num_workers``, ``label_smoothing``; ``max_iter``
caps the step count of the epochs; ``eval_period`` / ``checkpoint_period`` in epochs, as classification).

Exact resume: the training data is the runtime's :class:`~lgvit_engine.data.EpochLoader` (the order a
function of ``(seed, epoch)``, every clip loaded under a seed fixed by its place in the epoch, so its
augmentation does not depend on DataLoader workers or on where a run started); the runtime restores the
main process's RNG (mixup, drop path) from the checkpoint.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F
from detectron2.engine import HookBase
from detectron2.utils import comm
from lgvit_engine import ConfigError, EpochTask, instantiate
from lgvit_engine.data import EpochLoader
from lgvit_engine.train import amp_dtype, device_of
from torch.utils.data import DataLoader, DistributedSampler

from ..data import collate_videos
from .data import CheckedLoader, DataError, build_dataset, check_num_classes
from .evaluate import evaluate

__all__ = ["VideoTask", "run", "soft_cross_entropy"]


def soft_cross_entropy(
    logits: torch.Tensor, targets: torch.Tensor, label_smoothing: float = 0.0
) -> torch.Tensor:
    """CE for hard ``(B,)`` or soft ``(B, classes)`` targets (mixup/cutmix)."""
    if targets.ndim == 1:
        return F.cross_entropy(logits, targets, label_smoothing=label_smoothing)
    return torch.sum(-targets * F.log_softmax(logits.float(), dim=-1), dim=-1).mean()


class SkippedVideos(HookBase):
    """Counts unreadable training videos over every process (``skipped_videos`` in the metrics and in the
    checkpointed run state: a resumed run goes on counting)."""

    def __init__(self, task: VideoTask):
        self.task = task

    def after_step(self) -> None:
        pending, self.task.skipped_since = self.task.skipped_since, 0
        total = sum(comm.all_gather(pending)) if comm.get_world_size() > 1 else pending
        counters = self.trainer.run_state.counters
        counters["skipped_videos"] = counters.get("skipped_videos", 0) + total
        self.trainer.storage.put_scalar("skipped_videos", counters["skipped_videos"], smoothing_hint=False)


class VideoTask(EpochTask):
    name = "video"
    kind = "video"
    required_keys = ("model.num_frames", "dataloader.train", "optimizer", "lr_multiplier", "train.epochs")
    user_errors = (DataError,)

    def __init__(self) -> None:
        self._datasets: dict[str, Any] = {}
        self.num_classes: int | None = None
        self.mixup: Any = None
        self.label_smoothing = 0.0
        self.skipped_since = 0

    # -- checks ---------------------------------------------------------------------------------------

    def check_config(self, cfg: Any, args: argparse.Namespace) -> None:
        for key in ("test_batch_size", "batch_size"):
            value = cfg.train.get(key, 1)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"train.{key}={value!r} is not allowed: it must be a positive integer")
        if args.eval_only and cfg.dataloader.get("test") is None:
            raise ConfigError("--eval-only needs dataloader.test in the config")

    # -- data -----------------------------------------------------------------------------------------

    def dataset(self, cfg: Any, split: str) -> Any:
        """``dataloader.<split>`` built once, checked against the model's class count."""
        if split not in self._datasets:
            ds = build_dataset(cfg.dataloader[split], f"dataloader.{split}")
            check_num_classes(
                self.num_classes, ds, f"dataloader.{split}", self.mixup if split == "train" else None
            )
            self._datasets[split] = ds
        return self._datasets[split]

    def _sampler(self, cfg: Any, split: str) -> DistributedSampler:
        """This process's share of ``dataloader.<split>`` (shuffled with ``train.seed`` + epoch for training;
        padded by repeating items so every process gets as many: evaluation counts each video once)."""
        ds = self.dataset(cfg, split)
        train = split == "train"
        seed = int(cfg.train.get("seed", 0))
        return DistributedSampler(ds, comm.get_world_size(), comm.get_rank(), shuffle=train, seed=seed)

    def epoch_size(self, cfg: Any) -> int:
        return len(self._sampler(cfg, "train"))

    def epoch_items(self, cfg: Any) -> str:
        return "training videos"

    def max_iter(self, cfg: Any) -> int:
        """The epoch-based count (:class:`~lgvit_engine.task.EpochTask`; ``train.max_iter`` caps it). Builds
        (and checks) the training and test data, before the first step."""
        steps = super().max_iter(cfg)
        if cfg.dataloader.get("test") is not None:
            self.dataset(cfg, "test")  # checked now, not after the last step
        return steps

    def build_train_loader(self, cfg: Any, start_iter: int, seed: int) -> CheckedLoader:
        loader = EpochLoader(
            self.dataset(cfg, "train"),
            self._sampler(cfg, "train"),
            cfg.train.batch_size,
            seed,
            start_step=start_iter,
            accum_steps=int(cfg.train.get("accum_steps", 1)),
            num_workers=cfg.train.get("num_workers", 0),
            collate_fn=collate_videos,
            pin_memory=device_of(cfg).type == "cuda",
        )
        return CheckedLoader(loader, "dataloader.train")

    # -- model and step -------------------------------------------------------------------------------

    def build_model(self, cfg: Any) -> nn.Module:
        model = instantiate(cfg.model)
        self.num_classes = getattr(model, "num_classes", None)
        self.mixup = instantiate(cfg.mixup) if cfg.get("mixup") is not None else None
        self.label_smoothing = float(cfg.train.get("label_smoothing", 0.0))
        return model

    def build_hooks(self, cfg: Any, trainer: Any) -> list[Any]:
        return [SkippedVideos(self)]

    def loss(self, model: nn.Module, batch: dict[str, Any]) -> dict[str, torch.Tensor]:
        self.skipped_since += len(batch["skipped"])
        device = next(model.parameters()).device
        videos = batch["video"].to(device, non_blocking=True)
        labels = batch["label"].to(device, non_blocking=True)
        videos, targets = self.mixup(videos, labels) if self.mixup is not None else (videos, labels)
        logits = model(videos)
        return {"loss_cls": soft_cross_entropy(logits.float(), targets, self.label_smoothing)}

    # -- weights and evaluation -----------------------------------------------------------------------

    def load_eval_weights(self, model: nn.Module, path: str, args: argparse.Namespace, cfg: Any) -> None:
        """Default (no ``--weights``): ``train.output_dir/model_final.pth`` when there is one."""
        final = Path(cfg.train.output_dir) / "model_final.pth"
        super().load_eval_weights(model, path or (str(final) if final.is_file() else ""), args, cfg)

    def evaluate(self, cfg: Any, model: nn.Module) -> dict[str, Any]:
        """Multi-clip x 3-crop test on ``dataloader.test``: top-1/top-5, per-video predictions (CSV and JSON
        in ``train.output_dir``)."""
        if cfg.dataloader.get("test") is None:
            return {}
        ds = self.dataset(cfg, "test")
        loader = DataLoader(
            ds,
            batch_size=cfg.train.get("test_batch_size", 1),
            sampler=self._sampler(cfg, "test"),
            num_workers=cfg.train.get("num_workers", 0),
            collate_fn=collate_videos,
        )
        device = device_of(cfg)
        res = evaluate(
            model,
            CheckedLoader(loader, "dataloader.test"),
            ds.classes,
            device,
            cfg.train.output_dir,
            amp_dtype(cfg, device, self.logger),
            comm.is_main_process(),
        )
        self.logger.info(
            "top-1 %.2f  top-5 %.2f  (%d videos, %d unreadable skipped)",
            res["top1"],
            res["top5"],
            res["num_videos"],
            res["skipped"],
        )
        return res


def run(
    cfg: Any, resume: bool = False, eval_only: bool = False, weights: str | None = None
) -> dict[str, Any]:
    """``python -m video.train`` in this process on a loaded config (tests, the demo): trains (or
    evaluates) after the same checks as the command line; returns the last evaluation (``top1`` ...)."""
    from lgvit_engine import check_settings, parse_args
    from lgvit_engine.train import main

    task = VideoTask()
    args = parse_args([*(["--resume"] if resume else []), *(["--eval-only"] if eval_only else [])])
    args.weights = weights
    check_settings(cfg)
    task.check_config(cfg, args)
    return main(task, args, cfg)
