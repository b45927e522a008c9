"""One loader for the project's lazy configs (Detectron2 ``LazyConfig`` files), used by every entry point.

Besides ``LazyConfig.load`` + ``apply_overrides`` it refuses what those accept silently or crash on:

* an override key that does not exist (``train.max_itr=5``): refused before anything runs, naming the
  close matches. A key may be new only where the config describes a call (``L(fn)(...)``) whose
  callable accepts that argument;
* a value of the wrong kind for a number or flag (``train.max_iter=ten``);
* a config of another kind (a video config given to the detection trainer): the error names the keys
  it lacks and which entry point it looks like it belongs to;
* a config file that does not parse or run (a syntax error, a failing import): one message with the file
  and line, not a traceback;
* settings that cannot train (:func:`check_settings`: ``train.max_iter=-5``, ``train.batch_size=0``,
  ``train.epochs=0``, ``train.device=cuda`` without CUDA).

Override values are Python literals (tuples included: ``model.dims=(32,64,128,256)``) or else strings,
applied by this module (Detectron2's hydra-based parser fails on tuples).

A user's config may live in any folder: :func:`get_config` loads a shipped config by its path under
``configs/`` (as ``detectron2.model_zoo.get_config`` does for Detectron2's), e.g.::

    from lgvit_engine.config import get_config
    _base = get_config("shapes/mask_rcnn_regionvit_tiny_shapes.py")
    model, dataloader, optimizer, lr_multiplier, train = (_base[k] for k in
        ("model", "dataloader", "optimizer", "lr_multiplier", "train"))
    dataloader.train.dataset.names = "my_dataset"   # registered above in this file: safe, see below

The runtime loads a config once per process, so a config may register its datasets itself.
"""

from __future__ import annotations

import ast
import difflib
import inspect
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "CONFIG_ROOT",
    "ConfigError",
    "apply_overrides",
    "check_settings",
    "get_config",
    "instantiate",
    "load_config",
    "parse_override",
    "save_config",
]

# The shipped configs (a source checkout: the package lives at projects/LGViTEngine/lgvit_engine/).
CONFIG_ROOT = Path(os.environ.get("LGVIT_CONFIGS", Path(__file__).resolve().parents[3] / "configs"))

# Keys that identify a config's kind, for the message when a config is given to the wrong entry point.
CONFIG_KINDS = {
    "detection or segmentation (python projects/LGViTDet/train_net.py --config-file ...)": (
        "lr_multiplier",
        "dataloader.evaluator",
    ),
    "classification (python projects/LGViTCls/train_net.py --config-file ...)": ("scheduler",),
    "video (python -m video.train --config-file ...)": ("model.num_frames",),
}


class ConfigError(ValueError):
    """A config file or override that cannot be used; the message says what to change."""


def _lazy():
    try:
        from detectron2.config import LazyConfig
    except ImportError as e:  # pragma: no cover - depends on the install
        raise ImportError(
            "lgvit configs are Detectron2 lazy configs: install detectron2 (bash tools/bootstrap.sh does)"
        ) from e
    return LazyConfig


def instantiate(node: Any) -> Any:
    """Detectron2's ``instantiate`` behind the same install check as the loader."""
    _lazy()
    from detectron2.config import instantiate as _instantiate

    return _instantiate(node)


def parse_override(override: str) -> tuple[str, Any]:
    """``"a.b=value"`` -> ``("a.b", value)``; values are Python literals when they parse, else strings
    (as Detectron2 does)."""
    if "=" not in override:
        raise ConfigError(f"override {override!r} is not key=value (e.g. train.max_iter=100)")
    key, value = override.split("=", 1)
    key = key.strip()
    if not key or any(not part.isidentifier() and not part.isdigit() for part in key.split(".")):
        raise ConfigError(f"override {override!r}: {key!r} is not a dotted config key")
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key, value


def _accepts(target: Any, name: str) -> bool:
    """Whether the callable ``target`` (a LazyCall ``_target_``) takes a keyword argument ``name``."""
    if isinstance(target, str):
        try:
            from detectron2.config.instantiate import locate  # resolves "pkg.mod.Class"

            target = locate(target)
        except Exception:
            return False
    try:
        params = inspect.signature(target).parameters
    except (TypeError, ValueError):
        return False
    if name in params:
        return True
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def _known(node: Any) -> list[str]:
    return [str(k) for k in node.keys()] if isinstance(node, Mapping) else []


def _check_override(cfg: Any, key: str, value: Any) -> None:
    node, path = cfg, []
    parts = key.split(".")
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, Sequence) and not isinstance(node, str) and part.isdigit():
            if int(part) >= len(node):
                raise ConfigError(f"override {key}: {'.'.join(path) or 'the config'} has {len(node)} items")
            node, path = node[int(part)], [*path, part]
            continue
        if not isinstance(node, Mapping):
            raise ConfigError(
                f"override {key}: {'.'.join(path)} is a {type(node).__name__} value, not a group of keys"
            )
        if part not in node:
            target = node.get("_target_") if last else None
            if target is not None and _accepts(target, part):
                return  # a new argument of a described call, e.g. model.drop_path_rate
            where = ".".join(path) or "the config"
            close = difflib.get_close_matches(part, _known(node), n=3, cutoff=0.6)
            hint = (
                f" Did you mean {', '.join('.'.join([*path, c]) for c in close)}?"
                if close
                else f" Keys there: {', '.join(sorted(_known(node)))}."
            )
            raise ConfigError(f"unknown config key {key!r}: {where} has no {part!r}.{hint}")
        node, path = node[part], [*path, part]
    _check_type(key, node, value)


def _check_type(key: str, old: Any, new: Any) -> None:
    """Numbers and flags keep their kind: ``train.max_iter=ten`` is refused, ``lr=1`` for a float is not."""
    if old is None or new is None or (isinstance(new, str) and new.startswith("${")):
        return
    if isinstance(old, bool):
        ok = isinstance(new, bool)
    elif isinstance(old, int):
        ok = isinstance(new, int) and not isinstance(new, bool)
    elif isinstance(old, float):
        ok = isinstance(new, (int, float)) and not isinstance(new, bool)
    else:
        return
    if not ok:
        raise ConfigError(
            f"override {key}={new!r}: expected a {type(old).__name__} (the config has {old!r}), "
            f"got {type(new).__name__}"
        )


def apply_overrides(cfg: Any, overrides: Iterable[str]) -> Any:
    """Checks every ``key=value`` override (see the module docstring), then applies them all."""
    from omegaconf import OmegaConf

    parsed = [parse_override(o) for o in overrides or []]
    for key, value in parsed:
        _check_override(cfg, key, value)
    for key, value in parsed:
        if isinstance(value, tuple):
            value = list(value)  # OmegaConf stores sequences as lists
        OmegaConf.update(cfg, key, value, merge=True)
    return cfg


_ABSENT = object()


def _has(cfg: Any, dotted: str) -> bool:
    return _get(cfg, dotted, _ABSENT) is not _ABSENT


def _load_file(path: str) -> Any:
    """``LazyConfig.load`` with a file that does not parse or run turned into a :class:`ConfigError`."""
    try:
        return _lazy().load(path)
    except SyntaxError as e:
        raise ConfigError(
            f"config {path} has a syntax error at line {e.lineno}: {e.msg}\n    {(e.text or '').strip()}"
        ) from e
    except (ImportError, NameError, AttributeError, KeyError, TypeError, ValueError) as e:
        if isinstance(e, ConfigError):
            raise
        tb = e.__traceback__
        line = None
        while tb is not None:  # the innermost frame inside a config file: where the user looks
            if tb.tb_frame.f_code.co_filename.endswith(".py") and "configs" in tb.tb_frame.f_code.co_filename:
                line = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}"
            tb = tb.tb_next
        where = f" ({line})" if line else ""
        hint = (
            " A config outside configs/ cannot import shipped configs relatively: use "
            "lgvit_engine.config.get_config('<path under configs/>')."
            if isinstance(e, ImportError) and "relative import" in str(e)
            else ""
        )
        raise ConfigError(f"config {path} failed to load{where}: {type(e).__name__}: {e}.{hint}") from e


def load_config(
    path: str | os.PathLike,
    overrides: Iterable[str] | None = None,
    required: Sequence[str] = (),
    kind: str = "",
) -> Any:
    """Loads a lazy config, checks it has the ``required`` keys (dotted paths allowed; else names what
    kind of config it looks like) and applies checked ``overrides``."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        if os.path.isdir(path):
            raise ConfigError(f"config file {path!r} is a directory: pass one of the .py configs inside it")
        raise FileNotFoundError(f"config file {path!r} does not exist")
    cfg = _load_file(path)
    missing = [k for k in required if not _has(cfg, k)]
    if missing:
        guess = [name for name, keys in CONFIG_KINDS.items() if all(_has(cfg, k) for k in keys)]
        hint = f" It looks like a {guess[0]} config." if guess else ""
        raise ConfigError(
            f"{path} is not a {kind or 'suitable'} config: it defines no {missing} "
            f"(a {kind or 'suitable'} config defines {list(required)}).{hint}"
        )
    return apply_overrides(cfg, overrides or [])


def get_config(config_path: str, overrides: Iterable[str] | None = None) -> Any:
    """A shipped config by its path under ``configs/`` (e.g. ``"classification/digits_regionvit_tiny.py"``),
    for users' configs in other folders (``detectron2.model_zoo.get_config``'s convention)."""
    path = CONFIG_ROOT / config_path
    if not path.is_file():
        raise ConfigError(
            f"no shipped config {config_path!r} under {CONFIG_ROOT} (set LGVIT_CONFIGS to the configs folder "
            "of a checkout)"
        )
    return load_config(path, overrides)


def _get(cfg: Any, dotted: str, default: Any = None) -> Any:
    """The value at a dotted key (``default`` when a part is absent)."""
    node = cfg
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return default
        node = node[part]
    return node


# (dotted key, smallest allowed value): counts that must be positive, periods that may be 0 (off)
_AT_LEAST = {
    "train.max_iter": 1,
    "train.epochs": 1,
    "train.batch_size": 1,
    "train.val_batch_size": 1,
    "train.accum_steps": 1,
    "train.log_period": 1,
    "train.eval_period": 0,
    "train.checkpointer.period": 1,
    "train.num_workers": 0,
    "dataloader.train.total_batch_size": 1,
    "dataloader.test.batch_size": 1,
}


def check_settings(cfg: Any) -> None:
    """Refuses settings that cannot train, before anything starts: non-positive iteration counts, epochs,
    batch sizes or periods (``train.max_iter=-5`` would train nothing and report the random model), and
    ``train.device=cuda`` on a machine without CUDA."""
    for key, low in _AT_LEAST.items():
        value = _get(cfg, key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            what = "a positive integer" if low == 1 else "an integer >= 0 (0: off)"
            raise ConfigError(f"{key}={value!r} is not allowed: it must be {what}")
    device = _get(cfg, "train.device")
    if device is not None:
        import torch

        if not isinstance(device, str) or device.split(":")[0] not in ("cpu", "cuda", "auto"):
            raise ConfigError(f"train.device={device!r}: use 'cpu', 'cuda' or 'auto'")
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise ConfigError(
                f"train.device={device!r} but CUDA is not available on this machine: use train.device=cpu"
            )


def save_config(cfg: Any, path: str | os.PathLike) -> None:
    """Writes ``cfg`` as YAML beside a run's outputs (as text when it holds non-serialisable objects)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        _lazy().save(cfg, str(path))
    except Exception as e:  # a config holding non-serialisable objects still trains
        path.with_suffix(".txt").write_text(f"could not serialise the config ({e}):\n{cfg}\n")
