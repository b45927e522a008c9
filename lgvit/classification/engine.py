"""Training and evaluating lgvit classifiers from a lazy config, on timm's training utilities.

A classification config (``configs/classification/``) defines:

* ``model``: ``L(lgvit.create_model)(name=..., num_classes=..., drop_path_rate=...)``;
* ``dataloader.train`` / ``dataloader.val``:
  ``L(image_folder)(root=..., transform=L(create_transform)(...))``;
* ``optimizer``: ``L(timm.optim.create_optimizer_v2)(opt="adamw", lr=..., weight_decay=...)`` (the trainer
  passes the model: no weight decay on norms, biases and the model's ``no_weight_decay()``; layer-wise
  lr decay through the model's ``group_matcher()`` with ``layer_decay``);
* ``scheduler``: ``L(timm.scheduler.create_scheduler_v2)(sched="cosine", warmup_epochs=..., ...)``, stepped
  per optimizer update (the trainer passes the optimizer, ``train.epochs`` and the updates per epoch);
* ``mixup``: ``L(timm.data.Mixup)(...)`` or None (the trainer passes the class count);
* ``ema``: ``L(timm.utils.ModelEmaV3)(decay=...)`` or None;
* ``train``: the plain values of :class:`TrainSettings`.

Exact resume: checkpoints (``last.pth`` after every epoch) hold the model, optimizer, scheduler, EMA and
AMP-scaler state and the number of finished epochs; the sampler (timm's ``RepeatAugSampler`` or torch's
``DistributedSampler``) is a function of the epoch, and every epoch reseeds Python, NumPy and torch from
``(train.seed, epoch, rank)``, so augmentation, mixup and drop path draw the same numbers whether or not
the run was interrupted. A resumed run therefore matches an uninterrupted one exactly (same world size).
Checkpoints keep the weights under ``"model"`` (EMA weights under ``"model_ema"``), which the Detectron2
adapter (``train.init_checkpoint``), the video model (``model.pretrained``) and :mod:`lgvit.checkpoint`
read directly.

Logs: console lines through ``logging`` and one JSON object per line in ``output_dir/metrics.json``
(:class:`lgvit.metric_writer.MetricWriter`: ``{"iteration": step, "kind": "train" | "eval", "time": ...}``),
the format of the video trainer and of Detectron2's metrics file.
"""

from __future__ import annotations

import copy
import logging
import os
import time
from contextlib import nullcontext
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, Subset

from lgvit.checkpoint import (
    CheckpointError,
    LoadReport,
    adapt_state_dict,
    classifier_prefix,
    load_pretrained,
    load_state_dict,
    read_checkpoint,
    unwrap_state_dict,
)

from ..config import save_config
from ..distributed import (
    DistInfo,
    all_gather_objects,
    all_reduce_sum,
    cleanup,
    init_distributed,
    seed_all,
    setup_logging,
)
from ..metric_writer import MetricWriter
from .data import ImageFolderDataset, check_same_classes, collate_skipping, train_sampler

__all__ = [
    "REQUIRED",
    "ClassificationTrainer",
    "MetricWriter",
    "TrainSettings",
    "evaluate",
    "load_eval_weights",
    "load_initial_weights",
    "run",
    "save_checkpoint",
]

logger = logging.getLogger("lgvit.classification")
REQUIRED = ("model", "dataloader", "optimizer", "scheduler", "train")
LAST, FINAL = "last.pth", "model_final.pth"


@dataclass
class TrainSettings:
    """``cfg.train`` of the classification configs (plain values).

    Attributes:
        output_dir: checkpoints (``last.pth`` after every epoch, ``model_final.pth``), ``metrics.json``,
            ``config.yaml``.
        epochs: schedule length (the scheduler's warm-up is part of it).
        batch_size: images per process and optimizer step; ``val_batch_size`` for evaluation.
        num_workers: data-loading processes per training process.
        repeats: instance repetition (timm ``RepeatAugSampler``): each image this many times per epoch,
            the copies spread over the processes; 0 or 1 = off.
        lr_base_batch: ``optimizer.lr`` is the rate for this global batch; the trainer scales it linearly
            to ``batch_size x processes`` (DeiT/timm's rule). None: ``optimizer.lr`` as it is.
        clip_grad: max gradient norm (None: off).
        label_smoothing: cross-entropy smoothing when ``mixup`` is None (Mixup smooths its own targets).
        amp: "auto" (on with CUDA: bf16 where supported, else fp16 + scaler), True (also bf16 on CPU) or
            False.
        log_period: optimizer steps between train log lines.
        eval_period: epochs between evaluations on ``dataloader.val`` (0: only at the end).
        checkpoint_period: epochs between extra numbered checkpoints ``checkpoint_0005.pth`` (0: none).
        init_checkpoint: weights to start from (fine-tuning; a classifier of another size is left out and
            the family's filter adapts window-dependent tensors); ``--weights`` replaces it.
        grad_checkpointing: activation checkpointing (``model.set_grad_checkpointing``).
        seed: base seed (each epoch and process derives its own from it).
        device: "auto" (CUDA when available), "cpu" or "cuda".
    """

    output_dir: str = "output/classification/run"
    epochs: int = 300
    batch_size: int = 128
    val_batch_size: int = 256
    num_workers: int = 8
    repeats: int = 3
    lr_base_batch: int | None = None
    clip_grad: float | None = None
    label_smoothing: float = 0.1
    amp: Any = "auto"
    log_period: int = 50
    eval_period: int = 1
    checkpoint_period: int = 0
    init_checkpoint: str = ""
    grad_checkpointing: bool = False
    seed: int = 0
    device: str = "auto"

    @classmethod
    def from_config(cls, train: Any) -> TrainSettings:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(train) - known)
        if unknown:
            raise ValueError(f"unknown train settings {unknown}; known: {sorted(known)}")
        return cls(**dict(train))


# ------------------------------------------------------------------------------------- processes, logs


def _checkpoint_step(path: str | os.PathLike) -> int | None:
    """The optimizer step a trainer checkpoint was saved at (None for bare weights)."""
    ck = read_checkpoint(path)
    return ck.get("step") if isinstance(ck, dict) and isinstance(ck.get("step"), int) else None


def epoch_seed(seed: int, epoch: int, rank: int) -> int:
    """The seed of one epoch on one process (so a resumed epoch draws what the uninterrupted one drew)."""
    return (seed * 1_000_003 + epoch * 10_007 + rank) % 2**63


def amp_dtype_for(amp: Any, device: torch.device) -> torch.dtype | None:
    on = device.type == "cuda" if amp == "auto" else bool(amp)
    if not on:
        return None
    if device.type != "cuda":
        return torch.bfloat16  # CPU autocast supports bf16 only
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


# ------------------------------------------------------------------------------------------ weights


def load_initial_weights(model: nn.Module, path: str | os.PathLike, ema: bool = False) -> LoadReport:
    """Starts training from ``path`` (fine-tuning): every backbone weight must fit (after the family's
    window/size adaptation); a classifier of another class count is left at its initialisation."""
    sd = unwrap_state_dict(read_checkpoint(path), f"checkpoint {os.fspath(path)!r}", ema)
    report = load_pretrained(model, sd)  # through the family's filter (window/size adaptation)
    if report.dropped:
        logger.info("classifier of the checkpoint left out (another class count): %s", report.dropped)
    logger.info("initialised from %s: %s", path, report.summary())
    return report


def _checkpoint_classes(ck: Any) -> list[str] | None:
    classes = ck.get("classes") if isinstance(ck, dict) else None
    return list(classes) if isinstance(classes, (list, tuple)) else None


def load_eval_weights(
    model: nn.Module, path: str | os.PathLike, classes: list[str] | None = None, ema: bool = False
) -> LoadReport:
    """Loads weights to evaluate: all of them, classifier included, so a checkpoint with another class
    count (or other class names than ``classes``, when it records them) is refused with a message
    saying which numbers differ."""
    ck = read_checkpoint(path)
    sd = unwrap_state_dict(ck, f"checkpoint {os.fspath(path)!r}", ema)
    head = classifier_prefix(model)
    weight = sd.get(f"{head}.weight") if head else None
    n_model = getattr(model, "num_classes", None)
    if weight is not None and n_model is not None and weight.shape[0] != n_model:
        raise CheckpointError(
            f"checkpoint {os.fspath(path)!r} classifies {weight.shape[0]} classes but the model has "
            f"num_classes={n_model} (model.num_classes in the config; the dataset has "
            f"{len(classes) if classes is not None else '?'} classes). Evaluate it on data with its classes, "
            "or fine-tune it first (train.init_checkpoint=... leaves the classifier out)."
        )
    saved = _checkpoint_classes(ck)
    if saved is not None and classes is not None and saved != list(classes):
        diff = sorted(set(saved) ^ set(classes))
        raise CheckpointError(
            f"checkpoint {os.fspath(path)!r} was trained on other classes than the evaluation folder holds "
            f"(differing: {diff[:10]}{' ...' if len(diff) > 10 else ''}; or another order)"
        )
    return load_state_dict(model, adapt_state_dict(sd, model), strict=True)


def save_checkpoint(path: str | Path, **state: Any) -> None:
    """Writes ``state`` atomically (a temporary file renamed into place): an interrupted save never
    leaves a truncated ``last.pth``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def _unwrap(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, DistributedDataParallel) else model


# ------------------------------------------------------------------------------------------- evaluate


@torch.no_grad()
def evaluate(
    model: nn.Module,
    dataset: Dataset,
    dist: DistInfo,
    batch_size: int = 256,
    num_workers: int = 0,
    amp_dtype: torch.dtype | None = None,
) -> dict[str, Any]:
    """Top-1/top-5 accuracy (percent) and mean cross-entropy over ``dataset``; each process takes every
    ``world_size``-th image (no padding, so every image counts once). Unreadable images are skipped and
    counted (``skipped_images``) and named in ``skipped_files``."""
    model = _unwrap(model)
    was_training = model.training
    model.eval()
    shard = Subset(dataset, range(dist.rank, len(dataset), dist.world_size))
    loader = DataLoader(shard, batch_size=batch_size, num_workers=num_workers, collate_fn=collate_skipping)
    stats = torch.zeros(4, dtype=torch.float64)  # images, top1, top5, loss sum
    skipped: list[str] = []
    for images, targets, bad in loader:
        skipped += bad
        if not len(targets):
            continue
        images, targets = images.to(dist.device), targets.to(dist.device)
        with torch.autocast(dist.device.type, dtype=amp_dtype) if amp_dtype else nullcontext():
            logits = model(images)
        logits = logits.float()
        top = logits.topk(min(5, logits.shape[1]), dim=1).indices.eq(targets[:, None])
        stats += torch.tensor(
            [
                len(targets),
                top[:, :1].any(1).sum(),
                top.any(1).sum(),
                F.cross_entropy(logits, targets, reduction="sum"),
            ],
            dtype=torch.float64,
        )
    all_reduce_sum(stats)
    skipped = sorted(p for part in all_gather_objects(skipped) for p in part)
    model.train(was_training)
    n = max(float(stats[0]), 1.0)
    return dict(
        top1=100.0 * float(stats[1]) / n,
        top5=100.0 * float(stats[2]) / n,
        loss=float(stats[3]) / n,
        num_images=int(stats[0]),
        skipped_images=len(skipped),
        skipped_files=skipped,
    )


# -------------------------------------------------------------------------------------------- trainer


def _instantiate(node: Any, **extra: Any) -> Any:
    """detectron2's ``instantiate`` on a copy of ``node`` with ``extra`` arguments filled in (objects such
    as the model never enter the config itself, which stays serialisable)."""
    from detectron2.config import instantiate

    node = copy.deepcopy(node)
    for k, v in extra.items():
        node[k] = v
    return instantiate(node)


class ClassificationTrainer:
    """Builds everything a config describes and runs epochs; see the module docstring."""

    def __init__(self, cfg: Any, dist: DistInfo | None = None, weights: str | None = None):
        from lgvit.compat import timm_posterize_zero_bits

        timm_posterize_zero_bits()  # before create_transform builds RandAugment's ops
        self.cfg = cfg
        self.s = s = TrainSettings.from_config(cfg.train)
        self.dist = dist = dist or DistInfo()
        self.out = Path(s.output_dir)
        seed_all(s.seed)  # the same initial weights on every process
        self.train_set: ImageFolderDataset = _instantiate(cfg.dataloader.train)
        self.val_set: ImageFolderDataset | None = (
            _instantiate(cfg.dataloader.val) if cfg.dataloader.get("val") is not None else None
        )
        if self.val_set is not None:
            check_same_classes(self.train_set, self.val_set)
        self.classes = list(self.train_set.classes)
        model = _instantiate(cfg.model)
        n_model = getattr(model, "num_classes", None)
        if n_model is not None and n_model != len(self.classes):
            raise ValueError(
                f"the model has num_classes={n_model} but the training folder {self.train_set.root!r} holds "
                f"{len(self.classes)} classes: set model.num_classes={len(self.classes)}"
            )
        init = weights or s.init_checkpoint
        if init:
            load_initial_weights(model, init)
        if s.grad_checkpointing:
            model.set_grad_checkpointing(True)
        self.model_without_ddp = model.to(dist.device)
        self.ema = _instantiate(cfg.ema, model=model) if cfg.get("ema") is not None else None
        self.model = model
        if dist.world_size > 1:
            ids = [dist.device.index] if dist.device.type == "cuda" else None
            self.model = DistributedDataParallel(model, device_ids=ids)

        global_batch = s.batch_size * dist.world_size
        lr = float(cfg.optimizer.lr)
        if s.lr_base_batch:
            lr = lr * global_batch / s.lr_base_batch
        self.optimizer = _instantiate(cfg.optimizer, model_or_params=model, lr=lr)
        self.sampler = train_sampler(self.train_set, s.repeats, s.seed, dist.rank, dist.world_size)
        self.steps_per_epoch = len(self.sampler) // s.batch_size
        if self.steps_per_epoch < 1:
            raise ValueError(
                f"train.batch_size={s.batch_size} is larger than the {len(self.sampler)} images each of the "
                f"{dist.world_size} process(es) gets per epoch from {self.train_set.root!r}: lower it"
            )
        self.total_steps = self.steps_per_epoch * s.epochs
        self.scheduler, sched_epochs = _instantiate(
            cfg.scheduler,
            optimizer=self.optimizer,
            num_epochs=s.epochs,
            step_on_epochs=False,
            updates_per_epoch=self.steps_per_epoch,
        )
        if sched_epochs != s.epochs:
            logger.warning("the schedule spans %d epochs, train.epochs is %d", sched_epochs, s.epochs)
        self.mixup = _instantiate(cfg.mixup, num_classes=len(self.classes)) if cfg.get("mixup") else None
        from timm.loss import LabelSmoothingCrossEntropy, SoftTargetCrossEntropy

        if self.mixup is not None:
            self.criterion: nn.Module = SoftTargetCrossEntropy()
        elif s.label_smoothing > 0:
            self.criterion = LabelSmoothingCrossEntropy(s.label_smoothing)
        else:
            self.criterion = nn.CrossEntropyLoss()
        self.amp_dtype = amp_dtype_for(s.amp, dist.device)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)
        self.writer = MetricWriter(self.out, enabled=dist.is_main, logger_name=logger.name)
        self.epoch, self.step, self.skipped = 0, 0, 0
        self.skipped_files: set[str] = set()
        logger.info(
            "%s | train %s | val %s | %d process(es) x batch %d, lr %.3g | %d steps per epoch, %d epochs",
            type(model).__name__,
            self.train_set,
            self.val_set,
            dist.world_size,
            s.batch_size,
            lr,
            self.steps_per_epoch,
            s.epochs,
        )

    # -- state ----------------------------------------------------------------------------------------

    def state(self, full: bool = True) -> dict[str, Any]:
        st: dict[str, Any] = {"model": self.model_without_ddp.state_dict()}
        if self.ema is not None:
            st["model_ema"] = self.ema.module.state_dict()
        st.update(classes=self.classes, epoch=self.epoch, step=self.step)
        if full:
            st.update(
                optimizer=self.optimizer.state_dict(),
                scheduler=self.scheduler.state_dict(),
                scaler=self.scaler.state_dict(),
                skipped_images=self.skipped,
                world_size=self.dist.world_size,
            )
        return st

    def save(self, name: str = LAST, full: bool = True) -> None:
        if self.dist.is_main:
            save_checkpoint(self.out / name, **self.state(full))

    def resume(self, path: str | Path | None = None) -> bool:
        """Continues from ``path`` (default ``output_dir/last.pth``); False when there is none."""
        path = Path(path) if path else self.out / LAST
        if not path.is_file():
            logger.info("no checkpoint at %s: starting from scratch", path)
            return False
        ck = read_checkpoint(path)
        missing = [k for k in ("model", "optimizer", "scheduler", "epoch", "step") if k not in ck]
        if missing:
            raise CheckpointError(
                f"{path} is not a training checkpoint of this trainer (it has no {missing})"
            )
        saved = _checkpoint_classes(ck)
        if saved is not None and saved != self.classes:
            raise CheckpointError(f"{path} was trained on other classes than {self.train_set.root!r} holds")
        load_state_dict(self.model_without_ddp, ck["model"], strict=True, what="the model of this config")
        if self.ema is not None:
            if "model_ema" not in ck:
                raise CheckpointError(f"{path} has no EMA weights but the config has ema: set ema=None")
            self.ema.module.load_state_dict(ck["model_ema"])
        self.optimizer.load_state_dict(ck["optimizer"])
        self.scheduler.load_state_dict(ck["scheduler"])
        self.scaler.load_state_dict(ck["scaler"])
        self.epoch, self.step = int(ck["epoch"]), int(ck["step"])
        self.skipped = int(ck.get("skipped_images", 0))
        if ck.get("world_size", 1) != self.dist.world_size:
            logger.warning(
                "the checkpoint was written by %s process(es), this run has %d: the data order differs from "
                "an uninterrupted run",
                ck.get("world_size"),
                self.dist.world_size,
            )
        logger.info("resumed from %s after epoch %d (step %d)", path, self.epoch, self.step)
        return True

    # -- loops ----------------------------------------------------------------------------------------

    def _loader(self) -> DataLoader:
        self.sampler.set_epoch(self.epoch)
        return DataLoader(
            self.train_set,
            batch_size=self.s.batch_size,
            sampler=self.sampler,
            num_workers=self.s.num_workers,
            collate_fn=collate_skipping,
            pin_memory=self.dist.device.type == "cuda",
            drop_last=True,
        )

    def _train_step(self, images: torch.Tensor, targets: torch.Tensor) -> float:
        images, targets = images.to(self.dist.device), targets.to(self.dist.device)
        if self.mixup is not None:
            if len(targets) % 2:  # timm's Mixup pairs images: an odd batch (after a skipped image) loses one
                images, targets = images[:-1], targets[:-1]
            images, targets = self.mixup(images, targets)
        with torch.autocast(self.dist.device.type, dtype=self.amp_dtype) if self.amp_dtype else nullcontext():
            logits = self.model(images)
        loss = self.criterion(logits.float(), targets)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if self.s.clip_grad:
            self.scaler.unscale_(self.optimizer)
            nn.utils.clip_grad_norm_(self.model.parameters(), self.s.clip_grad)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.step += 1
        self.scheduler.step_update(num_updates=self.step)
        if self.ema is not None:
            self.ema.update(self.model_without_ddp, step=self.step)
        return float(loss.detach())

    def train_epoch(self) -> None:
        seed_all(epoch_seed(self.s.seed, self.epoch, self.dist.rank))
        self.model.train()
        losses, images_seen, skipped_since, t0 = [], 0, 0, time.time()
        for images, targets, bad in self._loader():
            skipped_since += len(bad)
            self.skipped_files.update(bad)
            if len(targets) < 2:  # everything unreadable (or one image left for mixup): nothing to learn
                continue
            losses.append(self._train_step(images, targets))
            images_seen += len(targets)
            if self.step % self.s.log_period == 0 or self.step % self.steps_per_epoch == 0:
                stats = all_reduce_sum(
                    torch.tensor([sum(losses), len(losses), images_seen, skipped_since], dtype=torch.float64)
                )
                self.skipped += int(stats[3])
                dt = time.time() - t0
                self.writer.write(
                    "train",
                    self.step,
                    epoch=self.epoch,
                    total_steps=self.total_steps,
                    loss=float(stats[0] / max(float(stats[1]), 1.0)),
                    lr=self.optimizer.param_groups[0]["lr"],
                    images_per_s=float(stats[2]) / max(dt, 1e-9),
                    eta_min=(self.total_steps - self.step) * dt / max(len(losses), 1) / 60,
                    skipped_images=self.skipped,
                )
                losses, images_seen, skipped_since, t0 = [], 0, 0, time.time()
        self.epoch += 1
        self.scheduler.step(self.epoch)  # timm's per-epoch hook (a no-op for per-update schedules)
        names = sorted({p for part in all_gather_objects(sorted(self.skipped_files)) for p in part})
        if names:
            logger.warning(
                "%d unreadable training image(s) skipped so far: %s", len(names), ", ".join(names[:20])
            )

    def run_eval(self) -> dict[str, Any]:
        """Evaluates the model (and its EMA) on ``dataloader.val``; logs an ``eval`` record."""
        res = evaluate(
            self.model, self.val_set, self.dist, self.s.val_batch_size, self.s.num_workers, self.amp_dtype
        )
        rec = {k: v for k, v in res.items() if k != "skipped_files"}
        if self.ema is not None:
            ema = evaluate(
                self.ema.module, self.val_set, self.dist, self.s.val_batch_size, self.s.num_workers
            )
            rec.update(ema_top1=ema["top1"], ema_top5=ema["top5"])
            res.update(ema_top1=ema["top1"], ema_top5=ema["top5"])
        if res["skipped_files"]:
            logger.warning("skipped unreadable validation image(s): %s", ", ".join(res["skipped_files"][:20]))
        self.writer.write("eval", self.step, epoch=self.epoch, **rec)
        return res

    def fit(self) -> dict[str, Any] | None:
        """Trains to ``train.epochs`` (from where :meth:`resume` left off), saving ``last.pth`` after every
        epoch; returns the final evaluation (None without ``dataloader.val``)."""
        s = self.s
        if self.dist.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
        result = None
        while self.epoch < s.epochs:
            self.train_epoch()
            self.save()
            if s.checkpoint_period and self.epoch % s.checkpoint_period == 0:
                self.save(f"checkpoint_{self.epoch:04d}.pth")
            last = self.epoch == s.epochs
            if self.val_set is not None and (last or (s.eval_period and self.epoch % s.eval_period == 0)):
                result = self.run_eval()
        self.save(FINAL, full=False)
        if result is None and self.val_set is not None:
            result = self.run_eval()
        return result


def run(
    cfg: Any, eval_only: bool = False, resume: bool = False, weights: str | None = None
) -> dict[str, Any] | None:
    """Trains (continuing from ``output_dir/last.pth`` with ``resume``; starting from ``weights`` or
    ``train.init_checkpoint`` otherwise) or, with ``eval_only``, evaluates ``weights`` (default
    ``output_dir/model_final.pth``, else ``last.pth``) on ``dataloader.val``. Returns the evaluation
    (``top1``, ``top5`` in percent, ``num_images``, ``skipped_images``, ``ema_top1`` ...)."""
    s = TrainSettings.from_config(cfg.train)
    dist = init_distributed(s.device)
    setup_logging(dist.is_main)
    try:
        if eval_only:
            return _eval_only(cfg, s, dist, weights)
        trainer = ClassificationTrainer(cfg, dist, weights=None if resume else weights)
        if dist.is_main:
            save_config(cfg, trainer.out / "config.yaml")
        if resume:
            trainer.resume()
        return trainer.fit()
    finally:
        cleanup()


def _eval_only(cfg: Any, s: TrainSettings, dist: DistInfo, weights: str | None) -> dict[str, Any]:
    if cfg.dataloader.get("val") is None:
        raise ValueError("--eval-only needs dataloader.val in the config")
    out = Path(s.output_dir)
    path = weights or next((str(p) for p in (out / FINAL, out / LAST) if p.is_file()), None)
    if path is None:
        raise FileNotFoundError(f"no weights to evaluate: pass --weights or train into {out} first")
    val_set = _instantiate(cfg.dataloader.val)  # its classes are checked against the checkpoint's
    model = _instantiate(cfg.model)
    load_eval_weights(model, path, val_set.classes)
    model.to(dist.device)
    amp = amp_dtype_for(s.amp, dist.device)
    res = evaluate(model, val_set, dist, s.val_batch_size, s.num_workers, amp)
    ck = read_checkpoint(path)
    if isinstance(ck, dict) and "model_ema" in ck:
        load_eval_weights(model, path, val_set.classes, ema=True)
        ema = evaluate(model, val_set, dist, s.val_batch_size, s.num_workers, amp)
        res.update(ema_top1=ema["top1"], ema_top5=ema["top5"])
    if res["skipped_files"]:
        logger.warning("skipped unreadable validation image(s): %s", ", ".join(res["skipped_files"][:20]))
    MetricWriter(out, enabled=dist.is_main, logger_name=logger.name).write(
        "eval",
        int(ck_step) if (ck_step := _checkpoint_step(path)) is not None else 0,
        weights=str(path),
        **{k: v for k, v in res.items() if k != "skipped_files"},
    )
    return res
