"""One loader for the project's lazy configs (Detectron2 ``LazyConfig`` files), used by every entry point.

Besides ``LazyConfig.load`` + ``apply_overrides`` it refuses what those accept silently:

* an override key that does not exist (``train.max_itr=5``): refused before anything runs, naming the
  close matches. A key may be new only where the config describes a call (``L(fn)(...)``) whose
  callable accepts that argument;
* a value of the wrong kind for a number or flag (``train.max_iter=ten``);
* a config of another kind (a video config given to the detection trainer): the error names the keys
  it lacks and which entry point it looks like it belongs to.

Detectron2 is imported only when a config is loaded: ``import lgvit`` stays free of it.
"""

from __future__ import annotations

import ast
import difflib
import inspect
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["ConfigError", "apply_overrides", "load_config", "parse_override", "save_config"]

# Keys that identify a config's kind, for the message when a config is given to the wrong entry point.
CONFIG_KINDS = {
    "detection or segmentation (python projects/LGViTDet/train_net.py --config-file ...)": (
        "lr_multiplier",
        "dataloader.evaluator",
    ),
    "classification (python tools/train_cls.py --config-file ...)": ("scheduler",),
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
    overrides = list(overrides or [])
    for o in overrides:
        _check_override(cfg, *parse_override(o))
    return _lazy().apply_overrides(cfg, overrides)


def _has(cfg: Any, dotted: str) -> bool:
    node = cfg
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


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
        raise FileNotFoundError(f"config file {path!r} does not exist")
    cfg = _lazy().load(path)
    missing = [k for k in required if not _has(cfg, k)]
    if missing:
        guess = [name for name, keys in CONFIG_KINDS.items() if all(_has(cfg, k) for k in keys)]
        hint = f" It looks like a {guess[0]} config." if guess else ""
        raise ConfigError(
            f"{path} is not a {kind or 'suitable'} config: it defines no {missing} "
            f"(a {kind or 'suitable'} config defines {list(required)}).{hint}"
        )
    return apply_overrides(cfg, overrides or [])


def save_config(cfg: Any, path: str | os.PathLike) -> None:
    """Writes ``cfg`` as YAML beside a run's outputs (as text when it holds non-serialisable objects)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        _lazy().save(cfg, str(path))
    except Exception as e:  # a config holding non-serialisable objects still trains
        path.with_suffix(".txt").write_text(f"could not serialise the config ({e}):\n{cfg}\n")
