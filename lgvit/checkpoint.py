"""Reading, checking and adapting checkpoints for every lgvit family (one module, used by everything).

* :func:`read_checkpoint` reads a file with ``weights_only=True`` and turns every way a file can be wrong
  (missing, empty, truncated, not a PyTorch file, holding code objects) into one clear error naming it.
* :func:`unwrap_state_dict` finds the state dict inside training checkpoints (one list of wrapper keys,
  :data:`WRAPPER_KEYS`) and strips DDP's ``module.`` prefix.
* :func:`adapt_state_dict` passes a state dict through the model family's own filter
  (``model.checkpoint_filter``: official-format conversion, window/size adaptation), so glue code never
  needs to know which family it holds.
* :func:`check_state_dict` / :func:`load_state_dict` name every missing, unexpected and mis-shaped key.
* :func:`load_pretrained` = all of the above for an image model (classifier of another size dropped).
"""

from __future__ import annotations

import fnmatch
import logging
import os
import pickle
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn as nn

__all__ = [
    "DETECTION_ONLY_KEYS",
    "WRAPPER_KEYS",
    "CheckpointError",
    "LoadReport",
    "adapt_state_dict",
    "check_state_dict",
    "load_pretrained",
    "load_state_dict",
    "read_checkpoint",
    "read_state_dict",
    "unwrap_state_dict",
]

logger = logging.getLogger(__name__)

# Where trainers keep the weights inside a checkpoint dict, in order of preference: ours and
# Detectron2's ("model"), Lightning and many research codes ("state_dict"), older lgvit ("model_state").
WRAPPER_KEYS = ("model", "state_dict", "model_state")
# Keys that exist only in detection models (the detection norms ``out_norms=True`` adds, trained from
# scratch): absent from ImageNet checkpoints, and extras when a detection checkpoint feeds an image model.
DETECTION_ONLY_KEYS = ("det_norms.",)
# EMA weights sit beside "model" in timm/lgvit training checkpoints; taken only when asked for.
EMA_KEYS = ("model_ema", "state_dict_ema")


class CheckpointError(ValueError):
    """A checkpoint file or state dict that cannot be used; the message says why and what to do."""


def read_checkpoint(path: str | os.PathLike) -> Any:
    """Loads a checkpoint file on the CPU without executing code (``weights_only=True``).

    Raises ``FileNotFoundError`` (naming the path) or :class:`CheckpointError` for an empty, truncated,
    damaged or non-PyTorch file, and for files that hold pickled code objects.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"checkpoint file {path!r} does not exist")
    if os.path.isdir(path):
        raise CheckpointError(f"{path!r} is a directory; pass the checkpoint file inside it (e.g. last.pth)")
    size = os.path.getsize(path)
    if size == 0:
        raise CheckpointError(f"checkpoint {path!r} is empty (0 bytes): it was not written completely")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        # "Unsupported global": a pickled class/function; any other refusal ("Unsupported operand") is
        # bytes that are not a pickle at all
        if "Unsupported global" in str(e):
            raise CheckpointError(
                f"checkpoint {path!r} holds Python objects besides tensors and plain containers, which are "
                "not loaded because unpickling them can run arbitrary code. Re-save just the weights "
                "(torch.save(model.state_dict(), path)) with the code that wrote it."
            ) from e
        raise CheckpointError(f"{path!r} is not a PyTorch checkpoint ({size} bytes; {e})") from e
    except (EOFError, zipfile.BadZipFile) as e:
        raise CheckpointError(
            f"checkpoint {path!r} is truncated or damaged ({size} bytes; {type(e).__name__}: {e})"
        ) from e
    except RuntimeError as e:
        msg = str(e)
        if "PytorchStreamReader" in msg or "zip archive" in msg or "central directory" in msg:
            raise CheckpointError(
                f"checkpoint {path!r} is truncated or damaged ({size} bytes): {msg.splitlines()[0]}"
            ) from e
        raise CheckpointError(f"cannot read checkpoint {path!r}: {msg.splitlines()[0]}") from e
    except Exception as e:  # pickle raises many types on garbage (ValueError, KeyError, OSError, ...)
        with open(path, "rb") as f:
            is_zip = f.read(4) == b"PK\x03\x04"  # torch.save's format: a cut-off file keeps the header
        if is_zip:
            raise CheckpointError(
                f"checkpoint {path!r} is truncated or damaged ({size} bytes; {type(e).__name__}: {e})"
            ) from e
        raise CheckpointError(
            f"{path!r} is not a PyTorch checkpoint ({size} bytes; {type(e).__name__}: {e})"
        ) from e


def unwrap_state_dict(obj: Any, source: str = "checkpoint", ema: bool = False) -> dict[str, torch.Tensor]:
    """The ``{name: tensor}`` state dict inside ``obj`` (a state dict, or a dict holding one under one of
    :data:`WRAPPER_KEYS`, or with ``ema`` under :data:`EMA_KEYS`), with DDP's ``module.`` prefix removed.
    Non-tensor entries next to the tensors (e.g. ``__author__``) are ignored."""
    if isinstance(obj, Mapping):
        keys = (EMA_KEYS if ema else ()) + WRAPPER_KEYS
        for key in keys:
            if isinstance(obj.get(key), Mapping):
                obj = obj[key]
                break
        else:
            if ema:
                raise CheckpointError(f"{source} has no EMA weights (none of {list(EMA_KEYS)})")
    if not isinstance(obj, Mapping):
        raise CheckpointError(
            f"{source} holds a {type(obj).__name__}, not a state dict: expected {{name: tensor}}, or a dict "
            f"with the weights under one of {list(WRAPPER_KEYS)}"
        )
    sd = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
    if not sd:
        raise CheckpointError(
            f"{source} holds no tensors (keys: {sorted(map(str, obj))[:10]}); expected a state dict, or a "
            f"dict with the weights under one of {list(WRAPPER_KEYS)}"
        )
    if all(k.startswith("module.") for k in sd):  # saved from a DistributedDataParallel wrapper
        sd = {k[len("module.") :]: v for k, v in sd.items()}
    return sd


def read_state_dict(
    checkpoint: str | os.PathLike | Mapping[str, Any], ema: bool = False
) -> dict[str, torch.Tensor]:
    """:func:`read_checkpoint` (for a path) + :func:`unwrap_state_dict`."""
    if isinstance(checkpoint, Mapping):
        return unwrap_state_dict(checkpoint, "the given state dict", ema)
    return unwrap_state_dict(read_checkpoint(checkpoint), f"checkpoint {os.fspath(checkpoint)!r}", ema)


def adapt_state_dict(state_dict: dict[str, torch.Tensor], model: nn.Module) -> dict[str, torch.Tensor]:
    """Passes ``state_dict`` through ``model``'s family filter (``model.checkpoint_filter``): the family
    recognises its official format and adapts window/size-dependent tensors to the model. Models without
    a filter get the state dict unchanged."""
    fn = getattr(model, "checkpoint_filter", None)
    return dict(fn(state_dict)) if callable(fn) else dict(state_dict)


def _listing(title: str, items: list[str], limit: int = 12) -> str:
    return f"{title} ({len(items)}): " + ", ".join(items[:limit]) + (" ..." if len(items) > limit else "")


def _matches(key: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatch(key, p) or key.startswith(p) for p in patterns)


def check_state_dict(
    model: nn.Module,
    state_dict: Mapping[str, torch.Tensor],
    strict: bool = True,
    ignore_missing: Iterable[str] = (),
    what: str | None = None,
    ignore_unexpected: Iterable[str] = (),
) -> tuple[list[str], list[str]]:
    """Compares ``state_dict`` with ``model``'s and raises a :class:`CheckpointError` naming every shape
    mismatch and, with ``strict``, every missing (except ``ignore_missing`` prefixes/patterns) and
    unexpected (except ``ignore_unexpected``) key. Returns ``(missing, unexpected)``."""
    own = model.state_dict()
    ignore_missing = tuple(ignore_missing)
    ignore_unexpected = tuple(ignore_unexpected)
    mismatched = [
        f"{k}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}"
        for k, v in state_dict.items()
        if k in own and own[k].shape != v.shape
    ]
    missing = sorted(set(own) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(own))
    problems = [_listing("shape mismatches", mismatched)] if mismatched else []
    if strict:
        hard_missing = [k for k in missing if not _matches(k, ignore_missing)]
        if hard_missing:
            problems.append(_listing("missing keys", hard_missing))
        hard_unexpected = [k for k in unexpected if not _matches(k, ignore_unexpected)]
        if hard_unexpected:
            problems.append(_listing("unexpected keys", hard_unexpected))
    if problems:
        name = what or type(model).__name__
        raise CheckpointError(
            f"the checkpoint does not fit {name}:\n  "
            + "\n  ".join(problems)
            + "\nIs it for another model, variant or window size? (see lgvit.list_models())"
        )
    return missing, unexpected


@dataclass
class LoadReport:
    """What loading did: ``loaded`` keys, ``missing`` (left at initialisation), ``unexpected`` (unused),
    ``dropped`` (classifier of another shape, left at initialisation)."""

    loaded: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    def summary(self) -> str:
        def short(keys: list[str]) -> str:
            return ", ".join(keys[:6]) + (f" ... (+{len(keys) - 6})" if len(keys) > 6 else "")

        return (
            f"loaded {len(self.loaded)} tensors; missing {len(self.missing)}: {short(self.missing)}; "
            f"unexpected {len(self.unexpected)}: {short(self.unexpected)}; "
            f"dropped {len(self.dropped)}: {short(self.dropped)}"
        )


def load_state_dict(
    model: nn.Module,
    state_dict: Mapping[str, torch.Tensor],
    strict: bool = True,
    ignore_missing: Iterable[str] = (),
    what: str | None = None,
    ignore_unexpected: Iterable[str] = (),
) -> LoadReport:
    """``model.load_state_dict`` after :func:`check_state_dict` (every mismatch named in one error)."""
    missing, unexpected = check_state_dict(model, state_dict, strict, ignore_missing, what, ignore_unexpected)
    model.load_state_dict(state_dict, strict=False)
    loaded = sorted(set(state_dict) - set(unexpected))
    return LoadReport(loaded=loaded, missing=missing, unexpected=unexpected)


def classifier_prefix(model: nn.Module) -> str | None:
    """Module name of the model's classifier (``get_classifier()``), e.g. ``head``; None without one."""
    get = getattr(model, "get_classifier", None)
    head = get() if callable(get) else None
    if not isinstance(head, nn.Module):
        return None
    return next((n for n, m in model.named_modules() if m is head and n), None)


def load_pretrained(
    model: nn.Module,
    checkpoint: str | os.PathLike | Mapping[str, Any],
    strict: bool = True,
    ignore_missing: Iterable[str] = (),
    ema: bool = False,
) -> LoadReport:
    """Loads image weights (a file or a state dict; ours, a training checkpoint, or the family's official
    format) into ``model``: unwrap -> family filter -> drop a classifier of another shape -> checked load.

    With ``strict``, any other missing/unexpected/mis-shaped key raises a :class:`CheckpointError` that
    names it; keys matching ``ignore_missing`` may be absent (e.g. detection-only parts).
    """
    sd = adapt_state_dict(read_state_dict(checkpoint, ema=ema), model)
    own = model.state_dict()
    head = classifier_prefix(model)
    # a classifier of another size, or one the model does not have (num_classes=0), is not an error
    dropped = sorted(
        k for k in sd if head and k.startswith(head + ".") and (k not in own or own[k].shape != sd[k].shape)
    )
    for k in dropped:
        del sd[k]
    # detection-only parts (trained from scratch) may be absent, or extra in a detection checkpoint
    ignore = tuple(ignore_missing) + tuple(dropped) + DETECTION_ONLY_KEYS
    report = load_state_dict(model, sd, strict, ignore, ignore_unexpected=DETECTION_ONLY_KEYS)
    report.dropped = dropped
    logger.info("loaded pretrained weights into %s: %s", type(model).__name__, report.summary())
    return report
