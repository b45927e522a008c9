"""From a loaded config to a finished run: build everything, then train and/or evaluate."""

from __future__ import annotations

import logging
from dataclasses import fields
from pathlib import Path
from typing import Any

from lgvit.config import ConfigError, save_config
from lgvit.distributed import cleanup, init_distributed, seed_all, setup_logging

from ..config import instantiate
from .checkpoint import LAST, load_video_weights
from .data import build_dataset, check_num_classes
from .trainer import Trainer, TrainSettings

logger = logging.getLogger("video")


def train_settings(cfg: Any) -> TrainSettings:
    """``cfg.train`` as :class:`TrainSettings`; a :class:`lgvit.config.ConfigError` for keys that are no
    video training setting (e.g. a detection config given to ``video.train``), naming them."""
    known = {f.name for f in fields(TrainSettings)}
    unknown = sorted(set(cfg.train) - known)
    if unknown:
        detection = cfg.get("dataloader") is not None and cfg.dataloader.get("evaluator") is not None
        hint = (
            " It looks like a detection config: train it with python projects/LGViTDet/train_net.py "
            "--config-file ..."
            if detection
            else f" Video training settings are: {', '.join(sorted(known))}"
        )
        raise ConfigError(f"train.{', train.'.join(unknown)}: not video training settings.{hint}")
    return TrainSettings(**dict(cfg.train))


def run(
    cfg: Any, eval_only: bool = False, resume: bool = False, weights: str | None = None
) -> dict[str, Any] | None:
    """Trains (resuming from ``output_dir/last.pth`` with ``resume``) or, with ``eval_only``, runs the
    multi-crop test of ``weights`` (default: ``output_dir/model_final.pth``, else ``last.pth``).
    Returns the final evaluation (top1/top5 ...) or None when there is no test set."""
    settings = train_settings(cfg)
    dist = init_distributed(settings.device)
    setup_logging(dist.is_main)
    seed_all(settings.seed + dist.rank)
    try:
        model = instantiate(cfg.model)
        cfg.optimizer.params.model = model
        optimizer = instantiate(cfg.optimizer)
        del cfg.optimizer.params.model  # keep the config serialisable
        num_classes = getattr(model, "num_classes", None)
        train_set = mixup = test_set = None
        if not eval_only:
            train_set = build_dataset(cfg.dataloader.train, "dataloader.train")
            mixup = instantiate(cfg.mixup) if cfg.get("mixup") is not None else None
            check_num_classes(num_classes, train_set, "dataloader.train", mixup)
        if cfg.dataloader.get("test") is not None:
            test_set = build_dataset(cfg.dataloader.test, "dataloader.test")
            check_num_classes(num_classes, test_set, "dataloader.test")
        if eval_only:
            if test_set is None:
                raise ConfigError("--eval-only needs dataloader.test in the config")
            out = Path(settings.output_dir)
            path = weights or next(
                (str(p) for p in (out / "model_final.pth", out / LAST) if p.is_file()), None
            )
            if path is None:
                raise FileNotFoundError(f"no weights to evaluate: pass --weights or train into {out} first")
            load_video_weights(model, path)
            trainer = Trainer(model, optimizer, test_set, settings, dist, test_set=test_set)
            return trainer.run_eval()
        if dist.is_main:
            save_config(cfg, Path(settings.output_dir) / "config.yaml")
        trainer = Trainer(
            model,
            optimizer,
            train_set,
            settings,
            dist,
            test_set=test_set,
            mixup=mixup,
            lr_multiplier=instantiate(cfg.lr_multiplier),
        )
        if resume:
            trainer.resume()
        elif weights:
            load_video_weights(model, weights)
        return trainer.train()
    finally:
        cleanup()
