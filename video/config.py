"""Lazy configs for video (detectron2's ``LazyConfig``: python files that describe objects with
``LazyCall``; nothing is built until :func:`instantiate`).

A video config defines:

* ``model``: ``L(build_video_model)(...)``
* ``dataloader.train`` / ``dataloader.test``: ``L(kinetics_dataset | ssv2_dataset)(...)`` datasets
* ``optimizer``: ``L(torch.optim.AdamW)(params=L(param_groups_weight_decay)(weight_decay=...), ...)``
  (the runner fills in ``params.model``)
* ``mixup``: ``L(MixupCutmix)(...)`` or None
* ``train``: the plain values of :class:`video.engine.trainer.TrainSettings`
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

REQUIRED = ("model", "dataloader", "optimizer", "train")


def _lazy():
    try:
        from detectron2.config import LazyConfig, instantiate
    except ImportError as e:  # pragma: no cover - depends on the install
        raise ImportError(
            "video configs are detectron2 lazy configs: install detectron2 (bash tools/bootstrap.sh does)"
        ) from e
    return LazyConfig, instantiate


def load_config(path: str | Path, overrides: list[str] | None = None) -> Any:
    """Loads a config file and applies ``key=value`` overrides (values parsed as Python literals)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"config file {path} does not exist (see configs/video/)")
    LazyConfig, _ = _lazy()
    cfg = LazyConfig.load(str(path))
    missing = [k for k in REQUIRED if k not in cfg]
    if missing:
        raise ValueError(f"{path} defines no {missing}; a video config needs {list(REQUIRED)}")
    bad = [o for o in overrides or [] if "=" not in o]
    if bad:
        raise ValueError(f"overrides must look like key=value (e.g. train.epochs=1), got {bad}")
    try:
        cfg = LazyConfig.apply_overrides(cfg, list(overrides or []))
    except KeyError as e:
        raise ValueError(f"cannot apply overrides {overrides}: {e}") from e
    return cfg


def instantiate(obj: Any) -> Any:
    return _lazy()[1](obj)


def save_config(cfg: Any, path: str | Path) -> None:
    LazyConfig, _ = _lazy()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        LazyConfig.save(cfg, str(path))
    except Exception as e:  # a config holding non-serialisable objects still trains
        Path(path).with_suffix(".txt").write_text(f"could not serialise the config ({e}):\n{cfg}\n")
