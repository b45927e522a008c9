"""Lazy configs for video (detectron2's ``LazyConfig``: python files that describe objects with
``LazyCall``; nothing is built until :func:`instantiate`).

A video config defines:

* ``model``: ``L(build_video_model)(...)``
* ``dataloader.train`` / ``dataloader.test``: ``L(kinetics_dataset | ssv2_dataset)(...)`` datasets
* ``optimizer``: ``L(torch.optim.AdamW)(params=L(param_groups_weight_decay)(weight_decay=...), ...)``
  (the runner fills in ``params.model``)
* ``lr_multiplier``: an fvcore ``ParamScheduler`` of training progress (as in the detection configs)
* ``mixup``: ``L(MixupCutmix)(...)`` or None
* ``train``: the plain values of :class:`video.engine.trainer.TrainSettings`
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

REQUIRED = ("model", "dataloader", "optimizer", "lr_multiplier", "train.epochs")


def load_config(path: str | Path, overrides: list[str] | None = None) -> Any:
    """The project's one config loader (:func:`lgvit.config.load_config`) for video configs: unknown
    override keys are refused with close matches, a config of another kind is named as such."""
    from lgvit.config import load_config as _load

    return _load(path, overrides, required=REQUIRED, kind="video")


def instantiate(obj: Any) -> Any:
    """Builds a video config node (detectron2's ``instantiate``, behind lgvit's install check)."""
    from lgvit.config import instantiate as _instantiate

    return _instantiate(obj)
