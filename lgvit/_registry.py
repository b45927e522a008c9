"""Name -> factory registry behind ``lgvit.create_model`` / ``lgvit.list_models``, and the pretrained
weights step of the shared builder (:func:`pretrained_state_dict_overlay`: timm's flow, local files only)."""

from __future__ import annotations

import difflib
import fnmatch
import json
import os
from collections.abc import Callable
from typing import Any

import torch.nn as nn

_MODELS: dict[str, Callable[..., nn.Module]] = {}
# create_model arguments that say where weights come from or where the model is placed: not recorded as
# constructor arguments (timm's create_model leaves out the same)
_NOT_MODEL_ARGS = ("pretrained", "pretrained_cfg", "pretrained_cfg_overlay", "device", "dtype", "cache_dir")
NO_WEIGHTS_HINT = (
    "lgvit ships no pretrained weights and downloads nothing. Give it a local file or model directory: "
    "timm.create_model('local-dir:DIR', pretrained=True) for a model directory (config.json + "
    "model.safetensors, from lgvit.checkpoint.save_pretrained or timm's save_for_hf), or "
    "pretrained_cfg_overlay=dict(file='path/to/weights.pth' or '.safetensors') (ours or the family's "
    "official format), or lgvit.checkpoint.load_pretrained(model, path)"
)


def register(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
    """Decorator: registers a model factory under its function name."""
    if fn.__name__ in _MODELS:
        raise ValueError(f"model {fn.__name__!r} registered twice")
    _MODELS[fn.__name__] = fn
    return fn


def list_models(pattern: str = "*") -> list[str]:
    """Registered model names matching a shell-style pattern, sorted."""
    return sorted(n for n in _MODELS if fnmatch.fnmatch(n, pattern))


def _hub_offline_message(hub_id: str, what: str) -> str:
    return (
        f"hf-hub:{hub_id}: {what} is not in the local Hugging Face cache, and lgvit downloads nothing. "
        f"Download the model directory yourself (huggingface-cli download {hub_id} --local-dir DIR), then "
        "timm.create_model('local-dir:DIR', pretrained=True)"
    )


def _cached_hub_file(hub_id: str, filenames: tuple[str, ...]) -> str | None:
    """The first of ``filenames`` in the local Hugging Face cache for ``hub_id`` (``id@revision``), without
    any network access; None when none is cached or huggingface_hub is not installed."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    repo, _, revision = hub_id.partition("@")
    for name in filenames:
        found = try_to_load_from_cache(repo, name, revision=revision or None)
        if isinstance(found, str) and os.path.isfile(found):
            return found
    return None


def create_model(name: str, num_classes: int = 1000, **kwargs: Any) -> nn.Module:
    """Builds a registered model, e.g. ``create_model("regionvit_s", num_classes=10, drop_path_rate=0.1)``.

    ``name`` may also be timm's ``local-dir:DIR`` (a model directory, rebuilt with its weights; see
    :func:`lgvit.checkpoint.save_pretrained`) or ``hf-hub:<user>/<repo>`` (only when the Hugging Face cache
    holds it: lgvit downloads nothing). The constructor arguments are recorded (``model._model_args``, as
    timm records them) so that :func:`lgvit.checkpoint.save_pretrained` can describe the model."""
    if not isinstance(name, str):
        raise ValueError(
            f"model name must be a string such as 'regionvit_s', got {type(name).__name__} {name!r}; "
            f"known models: {', '.join(list_models())}"
        )
    if name.startswith(("local-dir:", "hf-hub:", "hf_hub:")):
        import timm

        source, _, ident = name.partition(":")
        if source != "local-dir":
            from .checkpoint import CheckpointError

            if _cached_hub_file(ident, ("config.json",)) is None:
                raise CheckpointError(_hub_offline_message(ident, "config.json"))
        if num_classes != 1000:
            kwargs["num_classes"] = num_classes
        kwargs.setdefault("pretrained", True)
        if source == "local-dir":
            config = os.path.join(ident, "config.json")
            if not os.path.isfile(config):
                raise FileNotFoundError(
                    f"{ident!r} is not a model directory (no config.json); write one with "
                    "lgvit.checkpoint.save_pretrained(model, dir) or timm's save_for_hf"
                )
            try:
                with open(config, encoding="utf-8-sig") as f:
                    json.load(f)
            except (ValueError, UnicodeDecodeError) as e:
                from .checkpoint import CheckpointError

                raise CheckpointError(f"{config} is truncated or damaged (not valid JSON: {e})") from e
        return timm.create_model(name, **kwargs)
    if name not in _MODELS:
        close = difflib.get_close_matches(name, _MODELS, n=4, cutoff=0.4)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"unknown model {name!r}.{hint} Known models: {', '.join(list_models())}")
    model = _MODELS[name](num_classes=num_classes, **kwargs)
    recorded = {k: v for k, v in kwargs.items() if k not in _NOT_MODEL_ARGS}
    model._model_args = dict(getattr(model, "_model_args", {}), num_classes=num_classes, **recorded)
    return model


def pretrained_state_dict_overlay(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The ``pretrained=True`` step of lgvit's builder: finds where timm's pretrained flow points --
    ``pretrained_cfg_overlay=dict(file=...)``, a ``local-dir:`` model directory (``source='local-dir'``,
    ``file=DIR``), or an ``hf-hub:`` name (its weights only from the local Hugging Face cache) -- reads
    the weights with lgvit's one reader (:func:`lgvit.checkpoint.read_state_dict`: ``.pth``/``.pt``/
    ``.ckpt``/``.safetensors``/model directories, one clear message per kind of bad file) and returns
    ``kwargs`` whose ``pretrained_cfg_overlay`` hands timm that state dict (timm then passes it through
    the family's checkpoint filter and adapts the classifier and input channels as usual). Nothing is
    downloaded; without a local source the error says how to give one."""
    from .checkpoint import CheckpointError, read_state_dict

    cfg = kwargs.get("pretrained_cfg")
    cfg = cfg.to_dict() if hasattr(cfg, "to_dict") else cfg if isinstance(cfg, dict) else {}
    overlay = dict(kwargs.get("pretrained_cfg_overlay") or {})
    merged = {**cfg, **overlay}
    if merged.get("state_dict") is not None:  # a state dict given directly: timm's own highest priority
        return kwargs
    file = merged.get("file")
    if merged.get("source") == "hf-hub" and not overlay.get("file"):
        hub_id = merged.get("hf_hub_id") or "?"
        file = _cached_hub_file(hub_id, ("model.safetensors", "pytorch_model.bin"))
        if file is None:
            raise CheckpointError(_hub_offline_message(hub_id, "the weights file"))
    if not file:
        raise ValueError(NO_WEIGHTS_HINT)
    sd = read_state_dict(file)
    if merged.get("source") != "local-dir" and "num_classes" not in overlay:
        # a bare file says nothing of its classes but its classifier: timm keeps the classifier when this
        # equals the model's num_classes (the registry's cfg would claim 1000 and drop a fitting head)
        heads = merged.get("classifier") or "head"
        weight = sd.get(f"{heads if isinstance(heads, str) else heads[0]}.weight")
        if weight is not None and weight.ndim == 2:
            overlay["num_classes"] = int(weight.shape[0])
    overlay.update(state_dict=sd, file=os.fspath(file), source="")
    return {**kwargs, "pretrained_cfg_overlay": overlay}


def drop_pretrained_state_dict(model: nn.Module) -> nn.Module:
    """Removes the state dict :func:`pretrained_state_dict_overlay` handed timm from the model's
    ``pretrained_cfg`` (it would keep a second copy of the weights alive)."""
    for attr in ("pretrained_cfg", "default_cfg"):
        cfg = getattr(model, attr, None)
        if isinstance(cfg, dict):
            cfg.pop("state_dict", None)
    return model
