"""Image classification as a task of the lgvit training runtime (:mod:`lgvit_engine`), on timm's
training utilities.

A classification config (``configs/classification/``) defines:

* ``model``: ``L(lgvit.create_model)(name=..., num_classes=..., drop_path_rate=...)``;
* ``dataloader.train`` / ``dataloader.val``:
  ``L(image_folder)(root=..., transform=L(create_transform)(...))``;
* ``optimizer``: ``L(timm.optim.create_optimizer_v2)(opt="adamw", lr=..., weight_decay=...)`` (the task
  passes the model: no weight decay on norms, biases and the model's ``no_weight_decay()``; layer-wise lr
  decay through the model's ``group_matcher()`` with ``layer_decay``);
* ``scheduler``: ``L(timm.scheduler.create_scheduler_v2)(sched="cosine", warmup_epochs=..., ...)``, stepped
  per optimizer update (the task passes the optimizer, ``train.epochs`` and the updates per epoch);
* ``mixup``: ``L(timm.data.Mixup)(...)`` or None (the task passes the class count);
* ``ema``: ``L(timm.utils.ModelEmaV3)(decay=...)`` or None (the task passes the model);
* ``train``: the settings (``configs/classification/common/train.py`` documents each): ``epochs``,
  ``batch_size`` (per process and micro-batch), ``accum_steps``, ``repeats`` (instance repetition),
  ``lr_base_batch`` (linear lr scaling), ``clip_grad``, ``label_smoothing``, ``amp``, ``log_period``
  (iterations), ``eval_period`` and ``checkpoint_period`` (epochs), ``init_checkpoint``,
  ``grad_checkpointing``, ``seed``, ``device``, ``output_dir``.

The runtime's iteration is one optimizer step: ``max_iter = epochs x steps per epoch``. Checkpoints
(``model_<iter>.pth`` every ``checkpoint_period`` epochs, ``model_final.pth``; ``--resume`` from the newest
intact one) hold model, optimizer, schedule, EMA, AMP scaler, RNG states, data seed, skipped-image count
and class names; the data of an epoch is a function of the seed, the epoch and the position
(:class:`lgvit_engine.data.EpochLoader`), so a run resumed at any iteration, mid-epoch included, equals an
uninterrupted one (same number of processes). Checkpoints keep the weights under ``"model"`` (EMA
weights in the hook state), which the Detectron2 adapter (``train.init_checkpoint``), the video model
(``model.pretrained``) and :mod:`lgvit.checkpoint` read directly.
"""

from __future__ import annotations

import argparse
import copy
import logging
import os
from pathlib import Path
from typing import Any

import lgvit_engine
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from detectron2.engine import hooks
from detectron2.utils import comm
from detectron2.utils.events import get_event_storage
from lgvit_engine import ConfigError, EpochTask
from lgvit_engine.data import EpochLoader
from lgvit_engine.train import EMAHook, device_of, unwrap
from lgvit_engine.weights import read_weights, read_weights_state_dict
from torch.utils.data import DataLoader, Subset

from lgvit.checkpoint import CheckpointError, LoadReport, adapt_state_dict, classifier_prefix, load_pretrained
from lgvit.checkpoint import load_state_dict as load_checked_state_dict

from .data import ImageFolderDataset, check_same_classes, collate_skipping, train_sampler

logger = logging.getLogger("lgvit_cls")
REQUIRED = ("model", "dataloader", "optimizer", "scheduler", "train")


def _instantiate(node: Any, **extra: Any) -> Any:
    """``instantiate`` on a copy of ``node`` with ``extra`` arguments (objects such as the model never
    enter the config itself, which stays serialisable)."""
    node = copy.deepcopy(node)
    for k, v in extra.items():
        node[k] = v
    return lgvit_engine.instantiate(node)


# ------------------------------------------------------------------------------------------ weights


def load_initial_weights(model: nn.Module, path: str | os.PathLike, ema: bool = False) -> LoadReport:
    """Starts training from ``path`` (fine-tuning; any file name or format): every backbone weight must fit
    (after the family's window/size adaptation); a classifier of another class count is left out."""
    sd = read_weights_state_dict(path, ema)
    report = load_pretrained(model, sd)  # through the family's filter (window/size adaptation)
    if report.dropped:
        logger.info("classifier of the checkpoint left out (another class count): %s", report.dropped)
    logger.info("initialised from %s: %s", path, report.summary())
    return report


def _checkpoint_classes(ck: Any) -> list[str] | None:
    if not isinstance(ck, dict):
        return None
    classes = ck.get("classes")
    if classes is None:  # a runtime checkpoint: the task's state hook holds them
        classes = ck.get("trainer", {}).get("hooks", {}).get("ClassificationState", {}).get("classes")
    return list(classes) if isinstance(classes, (list, tuple)) else None


def _ema_state(ck: Any) -> dict[str, torch.Tensor] | None:
    if not isinstance(ck, dict):
        return None
    if isinstance(ck.get("model_ema"), dict):
        return ck["model_ema"]
    return ck.get("trainer", {}).get("hooks", {}).get("EMAHook", {}).get("model") or None


def load_eval_weights(
    model: nn.Module, path: str | os.PathLike, classes: list[str] | None = None, ema: bool = False
) -> LoadReport:
    """Loads weights to evaluate: all of them, classifier included, so a checkpoint with another class
    count (or other class names than ``classes``, when it records them) is refused with a message
    saying which numbers differ."""
    ck = read_weights(path)
    sd = _ema_state(ck) if ema else None
    sd = sd if sd is not None else read_weights_state_dict(path, ema=False) if not ema else None
    if sd is None:
        raise CheckpointError(f"checkpoint {os.fspath(path)!r} has no EMA weights")
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
    return load_checked_state_dict(model, adapt_state_dict(sd, model), strict=True)


# ------------------------------------------------------------------------------------------- evaluate


def _all_reduce(x: torch.Tensor) -> torch.Tensor:
    if comm.get_world_size() > 1:
        dist.all_reduce(x)
    return x


@torch.no_grad()
def evaluate(
    model: nn.Module,
    dataset: Any,
    device: torch.device,
    batch_size: int = 256,
    num_workers: int = 0,
    amp_dtype: torch.dtype | None = None,
) -> dict[str, Any]:
    """Top-1/top-5 accuracy (percent) and mean cross-entropy over ``dataset``; each process takes every
    ``world_size``-th image (no padding, so every image counts once). Unreadable images are skipped and
    counted (``skipped_images``) and named in ``skipped_files``."""
    model = unwrap(model)
    was_training = model.training
    model.eval()
    rank, world = comm.get_rank(), comm.get_world_size()
    shard = Subset(dataset, range(rank, len(dataset), world))
    loader = DataLoader(shard, batch_size=batch_size, num_workers=num_workers, collate_fn=collate_skipping)
    stats = torch.zeros(4, dtype=torch.float64)  # images, top1, top5, loss sum
    skipped: list[str] = []
    for images, targets, bad in loader:
        skipped += bad
        if not len(targets):
            continue
        images, targets = images.to(device), targets.to(device)
        with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
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
    _all_reduce(stats)
    skipped = sorted(p for part in comm.all_gather(skipped) for p in part)
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


# ---------------------------------------------------------------------------------------------- hooks


class TimmScheduleHook(hooks.HookBase):
    """timm's scheduler stepped per optimizer update (and its per-epoch hook at epoch ends); the lr is
    logged as ``lr``."""

    def __init__(self, scheduler: Any, optimizer: torch.optim.Optimizer, steps_per_epoch: int):
        self.scheduler, self.optimizer, self.steps_per_epoch = scheduler, optimizer, steps_per_epoch

    def after_step(self) -> None:
        done = self.trainer.iter + 1
        get_event_storage().put_scalar("lr", self.optimizer.param_groups[0]["lr"], smoothing_hint=False)
        self.scheduler.step_update(num_updates=done)
        if done % self.steps_per_epoch == 0:
            self.scheduler.step(done // self.steps_per_epoch)

    def state_dict(self) -> dict[str, Any]:
        return self.scheduler.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.scheduler.load_state_dict(state)


class ClassificationState(hooks.HookBase):
    """The class names (checked on resume) and the count of skipped unreadable training images."""

    def __init__(self, classes: list[str]):
        self.classes, self.skipped = list(classes), 0

    def state_dict(self) -> dict[str, Any]:
        return {"classes": self.classes, "skipped_images": self.skipped}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if list(state["classes"]) != self.classes:
            raise CheckpointError(
                "the checkpoint was trained on other classes than the training folder holds"
            )
        self.skipped = int(state["skipped_images"])


# ----------------------------------------------------------------------------------------------- task


class ClassificationTask(EpochTask):
    """Classification on image folders (see the module docstring)."""

    name = "lgvit_cls"
    kind = "classification"
    required_keys = REQUIRED

    def __init__(self) -> None:
        self._data: tuple[int, ImageFolderDataset, ImageFolderDataset | None] | None = None
        self.ema: Any = None
        self.state: ClassificationState | None = None

    # -- data (built once per config) -----------------------------------------------------------------

    def datasets(self, cfg: Any) -> tuple[ImageFolderDataset, ImageFolderDataset | None]:
        if self._data is None or self._data[0] != id(cfg):
            from lgvit.compat import timm_posterize_zero_bits

            timm_posterize_zero_bits()  # before create_transform builds RandAugment's ops
            train = _instantiate(cfg.dataloader.train)
            val = _instantiate(cfg.dataloader.val) if cfg.dataloader.get("val") is not None else None
            if val is not None:
                check_same_classes(train, val)
            self._data = (id(cfg), train, val)
        return self._data[1], self._data[2]

    def _sampler(self, cfg: Any, seed: int) -> Any:
        train, _ = self.datasets(cfg)
        return train_sampler(train, cfg.train.repeats, seed, comm.get_rank(), comm.get_world_size())

    def epoch_size(self, cfg: Any) -> int:
        return len(self._sampler(cfg, 0))

    def epoch_items(self, cfg: Any) -> str:
        train, _ = self.datasets(cfg)
        return f"images from {train.root!r}"

    def check_config(self, cfg: Any, args: argparse.Namespace) -> None:
        for key in ("epochs", "batch_size"):
            if key not in cfg.train:
                raise ConfigError(f"a classification config sets train.{key}")

    # -- model, optimizer, schedule --------------------------------------------------------------------

    def build_model(self, cfg: Any) -> nn.Module:
        train, _ = self.datasets(cfg)
        classes = list(train.classes)
        model = _instantiate(cfg.model)
        n_model = getattr(model, "num_classes", None)
        if n_model is not None and n_model != len(classes):
            raise ConfigError(
                f"the model has num_classes={n_model} but the training folder {train.root!r} holds "
                f"{len(classes)} classes: set model.num_classes={len(classes)}"
            )
        if cfg.train.get("grad_checkpointing", False):
            model.set_grad_checkpointing(True)
        return model

    def save_final_weights(self, cfg: Any, model: nn.Module) -> list[str]:
        """``model_final.safetensors`` (the runtime's) and, for a registered lgvit/timm model, a model
        directory ``train.output_dir/model`` in timm's layout (``config.json`` with the class names +
        ``model.safetensors``): ``timm.create_model("local-dir:<output_dir>/model", pretrained=True)``."""
        from lgvit.checkpoint import save_pretrained

        written = super().save_final_weights(cfg, model)
        if getattr(model, "pretrained_cfg", None) is not None:  # built by lgvit.create_model / timm
            train, _ = self.datasets(cfg)
            written.append(
                str(save_pretrained(model, Path(cfg.train.output_dir) / "model", label_names=train.classes))
            )
        return written

    def build_optimizer(self, cfg: Any, model: nn.Module) -> torch.optim.Optimizer:
        lr = float(cfg.optimizer.lr)
        base = cfg.train.get("lr_base_batch")
        if base:
            global_batch = cfg.train.batch_size * cfg.train.get("accum_steps", 1) * comm.get_world_size()
            lr = lr * global_batch / base
        logger.info("lr %.3g for a global batch of %d", lr, cfg.train.batch_size * comm.get_world_size())
        return _instantiate(cfg.optimizer, model_or_params=model, lr=lr)

    def lr_scheduler(self, cfg: Any, trainer: Any) -> Any:
        return None  # timm's schedule: TimmScheduleHook

    def build_hooks(self, cfg: Any, trainer: Any) -> list[Any]:
        steps = self.steps_per_epoch(cfg)
        scheduler, sched_epochs = _instantiate(
            cfg.scheduler,
            optimizer=trainer.optimizer,
            num_epochs=cfg.train.epochs,
            step_on_epochs=False,
            updates_per_epoch=steps,
        )
        if sched_epochs != cfg.train.epochs:
            logger.warning("the schedule spans %d epochs, train.epochs is %d", sched_epochs, cfg.train.epochs)
        model = unwrap(trainer.model)
        train, _ = self.datasets(cfg)
        self.state = ClassificationState(train.classes)
        self.mixup = _instantiate(cfg.mixup, num_classes=len(train.classes)) if cfg.get("mixup") else None
        from timm.loss import LabelSmoothingCrossEntropy, SoftTargetCrossEntropy

        smoothing = cfg.train.get("label_smoothing", 0.0)
        if self.mixup is not None:
            self.criterion: nn.Module = SoftTargetCrossEntropy()
        elif smoothing > 0:
            self.criterion = LabelSmoothingCrossEntropy(smoothing)
        else:
            self.criterion = nn.CrossEntropyLoss()
        self.device = device_of(cfg)
        self.ema = _instantiate(cfg.ema, model=model) if cfg.get("ema") is not None else None
        out = [TimmScheduleHook(scheduler, trainer.optimizer, steps), self.state]
        if self.ema is not None:
            out.append(EMAHook(self.ema, model))
        return out

    # -- data and loss ---------------------------------------------------------------------------------

    def build_train_loader(self, cfg: Any, start_iter: int, seed: int) -> EpochLoader:
        train, _ = self.datasets(cfg)
        logger.info(
            "train %s | %d process(es) x batch %d x accum %d | %d steps per epoch, %d epochs",
            train,
            comm.get_world_size(),
            cfg.train.batch_size,
            cfg.train.get("accum_steps", 1),
            self.steps_per_epoch(cfg),
            cfg.train.epochs,
        )
        return EpochLoader(
            train,
            self._sampler(cfg, seed),
            cfg.train.batch_size,
            seed,
            start_step=start_iter,
            accum_steps=cfg.train.get("accum_steps", 1),
            num_workers=cfg.train.num_workers,
            collate_fn=collate_skipping,
            pin_memory=device_of(cfg).type == "cuda",
        )

    def loss(self, model: nn.Module, batch: Any) -> dict[str, torch.Tensor]:
        images, targets, bad = batch
        if bad:
            self.state.skipped += len(bad)
            logger.warning("%d unreadable training image(s) skipped: %s", len(bad), ", ".join(bad))
        get_event_storage().put_scalar("skipped_images", self.state.skipped, smoothing_hint=False)
        images, targets = images.to(self.device), targets.to(self.device)
        if self.mixup is not None and len(targets) % 2:
            images, targets = images[:-1], targets[:-1]  # timm's Mixup pairs images
        if len(targets) < 2:  # everything unreadable: a zero loss that keeps every parameter in the graph
            return {"loss_cls": sum(p.sum() for p in model.parameters()) * 0.0}
        if self.mixup is not None:
            images, targets = self.mixup(images, targets)
        logits = model(images)
        return {"loss_cls": self.criterion(logits.float(), targets)}

    # -- weights and evaluation ------------------------------------------------------------------------

    def load_weights(self, model: nn.Module, path: str) -> LoadReport:
        return load_initial_weights(model, path)

    def load_eval_weights(self, model: nn.Module, path: str, args: argparse.Namespace, cfg: Any) -> None:
        if not path:
            final = Path(cfg.train.output_dir) / "model_final.pth"
            if not final.is_file():
                raise FileNotFoundError(
                    f"no weights to evaluate: pass --weights or train into {cfg.train.output_dir} first"
                )
            path = str(final)
        _, val = self.datasets(cfg)
        if val is None:
            raise ConfigError("--eval-only needs dataloader.val in the config")
        load_eval_weights(model, path, val.classes)
        self.eval_path = path

    def evaluate(self, cfg: Any, model: nn.Module) -> dict[str, Any]:
        _, val = self.datasets(cfg)
        if val is None:
            return {}
        device = device_of(cfg)
        bs, workers = cfg.train.get("val_batch_size", 256), cfg.train.num_workers
        res = evaluate(model, val, device, bs, workers)
        ema = self.ema.module if self.ema is not None else None
        if ema is None and getattr(self, "eval_path", None):
            ck = read_weights(self.eval_path)
            if _ema_state(ck) is not None:
                ema = copy.deepcopy(unwrap(model))
                load_eval_weights(ema, self.eval_path, val.classes, ema=True)
        if ema is not None:
            e = evaluate(ema, val, device, bs, workers)
            res.update(ema_top1=e["top1"], ema_top5=e["top5"])
        if res["skipped_files"]:
            logger.warning("skipped unreadable validation image(s): %s", ", ".join(res["skipped_files"][:20]))
        logger.info(
            "top-1 %.2f  top-5 %.2f%s  (%d images, %d unreadable skipped)",
            res["top1"],
            res["top5"],
            f"  EMA top-1 {res['ema_top1']:.2f}" if "ema_top1" in res else "",
            res["num_images"],
            res["skipped_images"],
        )
        return res


def run(
    cfg: Any, eval_only: bool = False, resume: bool = False, weights: str | None = None
) -> dict[str, Any] | None:
    """Trains ``cfg`` in this process (continuing from the newest intact checkpoint with ``resume``;
    starting from ``weights`` or ``train.init_checkpoint`` otherwise) or, with ``eval_only``, evaluates
    ``weights`` (default ``output_dir/model_final.pth``). Returns the evaluation (``top1``, ``top5`` in
    percent, ``num_images``, ``skipped_images``, ``ema_top1`` ...)."""
    args = argparse.Namespace(
        config_file="", opts=[], eval_only=eval_only, resume=resume, weights=weights, num_threads=0
    )
    lgvit_engine.check_settings(cfg)
    return lgvit_engine.main(ClassificationTask(), args, cfg) or None
