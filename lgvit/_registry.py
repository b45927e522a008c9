"""Name -> factory registry behind ``lgvit.create_model`` / ``lgvit.list_models``."""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable
from typing import Any

import torch.nn as nn

_MODELS: dict[str, Callable[..., nn.Module]] = {}


def register(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
    """Decorator: registers a model factory under its function name."""
    if fn.__name__ in _MODELS:
        raise ValueError(f"model {fn.__name__!r} registered twice")
    _MODELS[fn.__name__] = fn
    return fn


def list_models(pattern: str = "*") -> list[str]:
    """Registered model names matching a shell-style pattern, sorted."""
    return sorted(n for n in _MODELS if fnmatch.fnmatch(n, pattern))


def create_model(name: str, num_classes: int = 1000, **kwargs: Any) -> nn.Module:
    """Builds a registered model, e.g. ``create_model("regionvit_s", num_classes=10, drop_path_rate=0.1)``."""
    if not isinstance(name, str):
        raise ValueError(
            f"model name must be a string such as 'regionvit_s', got {type(name).__name__} {name!r}; "
            f"known models: {', '.join(list_models())}"
        )
    if name not in _MODELS:
        close = difflib.get_close_matches(name, _MODELS, n=4, cutoff=0.4)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"unknown model {name!r}.{hint} Known models: {', '.join(list_models())}")
    return _MODELS[name](num_classes=num_classes, **kwargs)
