"""The training loop: AdamW + warmup/cosine per step, mixup/cutmix, AMP on CUDA, gradient
accumulation, DDP, checkpoint/resume (mid-epoch too), periodic 3-crop evaluation, metric logs."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F
from fvcore.common.param_scheduler import ConstantParamScheduler, ParamScheduler
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset

from lgvit.distributed import DistInfo, all_reduce_sum

from ..data import collate_videos
from .checkpoint import LAST, load_checkpoint, load_resume_checkpoint, save_checkpoint, unwrap
from .data import CheckedLoader
from .evaluate import evaluate
from .metrics import MetricWriter
from .sampler import SeededSamples, ShardedSampler, derive_seed, seed_everything
from .schedule import lr_schedule

logger = logging.getLogger("video")


@dataclass
class TrainSettings:
    """``cfg.train`` of the video configs (plain values).

    Attributes:
        output_dir: checkpoints (``last.pth``, ``model_final.pth``), ``metrics.json``, predictions.
        epochs: schedule length (the shape of the lr schedule is the config's ``lr_multiplier``).
        batch_size: clips per process per micro-step; ``accum_steps`` micro-steps per optimizer step.
        amp: "auto" (on when the device is CUDA), True or False. bf16 where supported, else fp16 + scaler.
        clip_grad: max gradient norm (None: off).
        log_period: optimizer steps between log lines. checkpoint_steps: extra mid-epoch checkpoints
            every that many steps (0: only at epoch ends). eval_period: epochs between evaluations
            (0: only at the end).
        max_steps: stop after this many optimizer steps in total (quick runs); the schedule then spans
            them.
    """

    output_dir: str = "output/video"
    epochs: int = 30
    batch_size: int = 8
    test_batch_size: int = 4
    num_workers: int = 4
    accum_steps: int = 1
    amp: Any = "auto"
    clip_grad: float | None = None
    label_smoothing: float = 0.0
    log_period: int = 20
    checkpoint_steps: int = 0
    eval_period: int = 0
    max_steps: int | None = None
    seed: int = 0
    device: str = "auto"


def soft_cross_entropy(
    logits: torch.Tensor, targets: torch.Tensor, label_smoothing: float = 0.0
) -> torch.Tensor:
    """CE for hard ``(B,)`` or soft ``(B, classes)`` targets (mixup/cutmix)."""
    if targets.ndim == 1:
        return F.cross_entropy(logits, targets, label_smoothing=label_smoothing)
    return torch.sum(-targets * F.log_softmax(logits.float(), dim=-1), dim=-1).mean()


def amp_dtype_for(amp: Any, device: torch.device) -> torch.dtype | None:
    on = device.type == "cuda" if amp == "auto" else bool(amp)
    if not on:
        return None
    if device.type != "cuda":
        return torch.bfloat16  # CPU autocast supports bf16 only
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


class Trainer:
    """Trains ``model`` on ``train_set`` (samples from :class:`video.data.VideoClipDataset`)."""

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        train_set: Dataset,
        settings: TrainSettings,
        dist: DistInfo,
        test_set: Dataset | None = None,
        mixup: Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]] | None = None,
        lr_multiplier: ParamScheduler | None = None,
    ):
        """``lr_multiplier``: the lr schedule over training progress (default: constant)."""
        self.s, self.dist = settings, dist
        lr_multiplier = lr_multiplier if lr_multiplier is not None else ConstantParamScheduler(1.0)
        if settings.accum_steps < 1:
            raise ValueError(f"accum_steps must be >= 1, got {settings.accum_steps}")
        self.model = model.to(dist.device)
        if dist.world_size > 1:
            ids = [dist.device.index] if dist.device.type == "cuda" else None
            self.model = DistributedDataParallel(self.model, device_ids=ids)
        self.optimizer, self.mixup = optimizer, mixup
        self.train_set, self.test_set = train_set, test_set
        # per-sample seeds and a reseed before every micro-step (mixup, drop path): a resumed run draws what
        # the uninterrupted one drew, whatever the number of DataLoader workers
        self.sampler = ShardedSampler(
            len(train_set), True, settings.seed, dist.rank, dist.world_size, seeded=True
        )
        self.amp_dtype = amp_dtype_for(settings.amp, dist.device)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)
        batches = math.ceil(len(self.sampler) / settings.batch_size)
        self.steps_per_epoch = math.ceil(batches / settings.accum_steps)
        total = settings.epochs * self.steps_per_epoch
        if settings.max_steps:
            total = min(total, settings.max_steps)
        self.total_steps = total
        self.scheduler = lr_schedule(optimizer, lr_multiplier, total)
        self.writer = MetricWriter(settings.output_dir, enabled=dist.is_main)
        self.epoch, self.seen_in_epoch, self.step, self.skipped, self.skipped_since = 0, 0, 0, 0, 0

    # -- state --------------------------------------------------------------------------------------

    def _sync_skipped(self) -> None:
        """Adds every rank's skips since the last sync to ``skipped`` (collective: all ranks call it)."""
        self.skipped += int(all_reduce_sum(torch.tensor([self.skipped_since], dtype=torch.float64))[0])
        self.skipped_since = 0

    def save(self, name: str = LAST) -> None:
        self._sync_skipped()  # a checkpoint counts every skip so far, logged or not
        if self.dist.is_main:
            save_checkpoint(
                Path(self.s.output_dir) / name,
                self.model,
                optimizer=self.optimizer,
                scheduler=self.scheduler,
                scaler=self.scaler,
                epoch=self.epoch,
                seen_in_epoch=self.seen_in_epoch,
                step=self.step,
                skipped=self.skipped,
                world_size=self.dist.world_size,
            )

    def resume(self, path: str | Path | None = None) -> bool:
        """Continues from ``path`` (default: the newest intact of ``output_dir/last.pth`` and the one it
        replaced, see :func:`load_resume_checkpoint`); False when there is none."""
        if path:
            path, ck = Path(path), load_checkpoint(path)
        else:
            found = load_resume_checkpoint(self.s.output_dir)
            if found is None:
                logger.info("no checkpoint at %s: starting from scratch", Path(self.s.output_dir) / LAST)
                return False
            path, ck = found
        unwrap(self.model).load_state_dict(ck["model"])
        self.optimizer.load_state_dict(ck["optimizer"])
        self.scheduler.load_state_dict(ck["scheduler"])
        self.scaler.load_state_dict(ck["scaler"])
        self.epoch, self.seen_in_epoch, self.step = ck["epoch"], ck["seen_in_epoch"], ck["step"]
        self.skipped = ck.get("skipped", 0)
        if ck.get("world_size", 1) != self.dist.world_size and self.seen_in_epoch:
            logger.warning(
                "world size changed since the checkpoint: restarting epoch %d from its start", self.epoch
            )
            self.seen_in_epoch = 0
        logger.info("resumed from %s at epoch %d, step %d", path, self.epoch, self.step)
        return True

    # -- loops --------------------------------------------------------------------------------------

    def _loader(self) -> CheckedLoader:
        self.sampler.set_epoch(self.epoch, self.seen_in_epoch)  # samples this rank already trained on
        loader = DataLoader(
            SeededSamples(self.train_set),
            batch_size=self.s.batch_size,
            sampler=self.sampler,
            num_workers=self.s.num_workers,
            collate_fn=collate_videos,
            pin_memory=self.dist.device.type == "cuda",
            persistent_workers=False,
        )
        return CheckedLoader(loader, "dataloader.train")

    def test_loader(self) -> CheckedLoader:
        sampler = ShardedSampler(len(self.test_set), False, 0, self.dist.rank, self.dist.world_size)
        loader = DataLoader(
            self.test_set,
            batch_size=self.s.test_batch_size,
            sampler=sampler,
            num_workers=self.s.num_workers,
            collate_fn=collate_videos,
        )
        return CheckedLoader(loader, "dataloader.test")

    def run_eval(self, prefix: str = "predictions") -> dict[str, Any]:
        res = evaluate(
            self.model,
            self.test_loader(),
            self.test_set.classes,
            self.dist.device,
            self.s.output_dir,
            self.amp_dtype,
            self.dist.is_main,
            prefix,
        )
        self.writer.write("eval", self.step, epoch=self.epoch, **res)
        return res

    def _micro_step(self, batch: dict[str, Any], sync: bool) -> float:
        videos = batch["video"].to(self.dist.device, non_blocking=True)
        labels = batch["label"].to(self.dist.device, non_blocking=True)
        videos, targets = self.mixup(videos, labels) if self.mixup else (videos, labels)
        ctx = (
            self.model.no_sync()
            if (not sync and isinstance(self.model, DistributedDataParallel))
            else nullcontext()
        )
        amp = torch.autocast(self.dist.device.type, dtype=self.amp_dtype) if self.amp_dtype else nullcontext()
        with ctx:
            with amp:
                logits = self.model(videos)
            loss = soft_cross_entropy(logits.float(), targets, self.s.label_smoothing)
            self.scaler.scale(loss / self.s.accum_steps).backward()
        return float(loss.detach())

    def _optimizer_step(self) -> None:
        if self.s.clip_grad:
            self.scaler.unscale_(self.optimizer)
            nn.utils.clip_grad_norm_(self.model.parameters(), self.s.clip_grad)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        self.scheduler.step()
        self.step += 1

    def _log(self, losses: list[float], clips: int, t0: float) -> None:
        stats = all_reduce_sum(
            torch.tensor([sum(losses), len(losses), clips, self.skipped_since], dtype=torch.float64)
        )
        self.skipped += int(stats[3])
        self.skipped_since = 0
        self.logged_step = self.step
        dt = time.time() - t0
        rate = float(stats[2]) / max(dt, 1e-9)
        eta = (self.total_steps - self.step) * dt / max(1, self.s.log_period)
        self.writer.write(
            "train",
            self.step,
            epoch=self.epoch,
            total_steps=self.total_steps,
            loss=float(stats[0] / stats[1]),
            lr=self.optimizer.param_groups[0]["lr"],
            clips_per_s=rate,
            eta_min=eta / 60,
            skipped_videos=self.skipped,
        )

    def train(self) -> dict[str, Any] | None:
        """Runs to ``epochs`` (or ``max_steps``), checkpointing and evaluating; returns the final eval."""
        self.model.train()
        self.skipped_since, self.logged_step = 0, -1
        done = self.step >= self.total_steps
        logger.info(
            "training %d steps (%d per epoch, %d process(es), batch %d x accum %d), amp=%s",
            self.total_steps,
            self.steps_per_epoch,
            self.dist.world_size,
            self.s.batch_size,
            self.s.accum_steps,
            self.amp_dtype,
        )
        while not done and self.epoch < self.s.epochs:
            losses, clips, t0, micro, pending = [], 0, time.time(), 0, 0
            loader = self._loader()
            num_batches = len(loader)
            for batch in loader:
                micro += 1
                pending += len(batch["video_index"])
                self.skipped_since += len(batch["skipped"])
                # the epoch's last micro-batch also steps (and syncs DDP gradients) when accum does not divide
                sync = micro % self.s.accum_steps == 0 or micro == num_batches
                k = (micro - 1) % self.s.accum_steps  # micro-batch k of this step (loaders start at a step)
                seed_everything(derive_seed(self.s.seed, self.step, k, self.dist.rank))
                losses.append(self._micro_step(batch, sync))
                clips += batch["label"].shape[0]
                if not sync:
                    continue
                self._optimizer_step()
                self.seen_in_epoch += pending
                pending = 0
                if self.step % self.s.log_period == 0:
                    self._log(losses, clips, t0)
                    losses, clips, t0 = [], 0, time.time()
                if self.s.checkpoint_steps and self.step % self.s.checkpoint_steps == 0:
                    self.save()
                if self.step >= self.total_steps:
                    done = True
                    break
            if losses and self.logged_step != self.step:
                # the period that log_period did not close (end of epoch/training): logged, so that the
                # last record's skipped_videos counts every skip
                self._log(losses, clips, t0)
            if not done:
                self.epoch, self.seen_in_epoch = self.epoch + 1, 0
            self.save()
            if (
                self.test_set is not None
                and self.s.eval_period
                and self.epoch % self.s.eval_period == 0
                and not done
            ):
                self.run_eval()
        self.save("model_final.pth")
        return self.run_eval() if self.test_set is not None else None
