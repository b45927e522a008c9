"""The one checked loader of initial weights (``train.init_checkpoint``, ``--weights``) for every task and
tool.

* :func:`read_weights` reads the file whatever its name or format: ``torch.save`` files (``.pth``,
  ``.pt``, ``.ckpt``, any name) through :func:`lgvit.checkpoint.read_checkpoint`, safetensors files by
  their content. A directory, an empty or damaged file is a :class:`~lgvit.checkpoint.CheckpointError`
  that says so. This is the one place that reads a weights file: it switches to lgvit.checkpoint's
  format-agnostic reader when that exists.
* :func:`load_weights` loads them into a model strictly: every parameter of the model must be in the file
  with its shape, except what the caller allows to stay at its initialisation (``allow_missing``, e.g.
  a classifier of another class count). What was loaded is logged; weights that do not fit raise a
  :class:`~lgvit.checkpoint.CheckpointError` naming the keys.

Tasks with a conversion (classification weights into a detector's backbone, image weights into a video
model) convert first and call :func:`load_weights` with the converted state dict.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import zipfile
from collections.abc import Iterable, Mapping
from typing import Any

import torch
import torch.nn as nn

from lgvit.checkpoint import CheckpointError, read_checkpoint, unwrap_state_dict

__all__ = ["is_safetensors", "load_weights", "read_weights", "read_weights_state_dict"]

logger = logging.getLogger("lgvit_engine")


def is_safetensors(path: str | os.PathLike) -> bool:
    """Whether ``path`` holds safetensors (an 8-byte header length followed by a JSON header)."""
    try:
        with open(path, "rb") as f:
            head = f.read(9)
    except OSError:
        return False
    return len(head) == 9 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") < 100_000_000


def read_weights(path: str | os.PathLike) -> Any:
    """The content of a weights file (``torch.save`` or safetensors, recognised by content, not name)."""
    path = os.fspath(path)
    if os.path.isdir(path):
        found = sorted(
            f for f in os.listdir(path) if f.endswith((".pth", ".pt", ".ckpt", ".safetensors", ".bin"))
        )
        hint = f" (it holds {', '.join(found[:5])})" if found else ""
        raise CheckpointError(f"weights {path!r} is a directory: pass the weights file inside it{hint}")
    if os.path.isfile(path) and is_safetensors(path):
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(path)
        except (SafetensorError, OSError, ValueError) as e:
            raise CheckpointError(f"safetensors file {path!r} is truncated or damaged: {e}") from e
    _check_zip(path)
    return read_checkpoint(path)


def _check_zip(path: str) -> None:
    """``torch.save`` files are zip archives whose members carry CRCs that ``torch.load`` does not check:
    a flipped byte in the tensor data would load as wrong weights. Checks them (a file that is not a zip
    archive is left to the reader's own checks)."""
    if not os.path.isfile(path) or not zipfile.is_zipfile(path):
        return
    try:
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        size = os.path.getsize(path)
        raise CheckpointError(f"checkpoint {path!r} is truncated or damaged ({size} bytes; {e})") from e
    if bad is not None:
        raise CheckpointError(f"checkpoint {path!r} is damaged (entry {bad} fails its CRC check)")


def read_weights_state_dict(path: str | os.PathLike, ema: bool = False) -> dict[str, torch.Tensor]:
    """:func:`read_weights` + :func:`lgvit.checkpoint.unwrap_state_dict` (training checkpoints, DDP)."""
    return unwrap_state_dict(read_weights(path), f"weights {os.fspath(path)!r}", ema)


def _shown(keys: list[str], limit: int = 8) -> str:
    return ", ".join(keys[:limit]) + (f" ... (+{len(keys) - limit})" if len(keys) > limit else "")


def load_weights(
    model: nn.Module,
    weights: str | os.PathLike | Mapping[str, torch.Tensor],
    allow_missing: Iterable[str] = (),
    allow_unexpected: Iterable[str] = (),
    what: str = "",
) -> dict[str, list[str]]:
    """Loads ``weights`` (a file or a state dict) into ``model`` (DDP unwrapped), strictly.

    Args:
        allow_missing / allow_unexpected: ``fnmatch`` patterns of model keys that may stay at their
            initialisation / checkpoint keys the model does not have.
        what: how the message names the weights (default: the path).

    Returns:
        ``{"loaded": [...], "missing": [...], "unexpected": [...]}`` (missing/unexpected: allowed ones).

    Raises:
        CheckpointError: a model key absent or of another shape, or an unexpected key, not allowed.
    """
    model = getattr(model, "module", model)
    source = what or (f"{os.fspath(weights)!r}" if not isinstance(weights, Mapping) else "the state dict")
    sd = dict(weights) if isinstance(weights, Mapping) else read_weights_state_dict(weights)
    own = model.state_dict()
    allow_missing, allow_unexpected = tuple(allow_missing), tuple(allow_unexpected)

    def allowed(key: str, patterns: tuple[str, ...]) -> bool:
        return any(fnmatch.fnmatchcase(key, p) for p in patterns)

    shapes = [k for k in own if k in sd and tuple(sd[k].shape) != tuple(own[k].shape)]
    missing = [k for k in own if k not in sd or k in shapes]
    unexpected = [k for k in sd if k not in own]
    bad_missing = [k for k in missing if not allowed(k, allow_missing)]
    bad_unexpected = [k for k in unexpected if not allowed(k, allow_unexpected)]
    if bad_missing or bad_unexpected:
        lines = [f"weights {source} do not fit {type(model).__name__}:"]
        if not set(own) & set(sd):
            lines.append("  no key in common (weights of another model, or of another task?)")
        mis = [f"{k}: weights {tuple(sd[k].shape)} vs model {tuple(own[k].shape)}" for k in shapes]
        if mis:
            lines.append(f"  {len(mis)} of another shape (another width or size?): {_shown(mis, 5)}")
        absent = [k for k in bad_missing if k not in shapes]
        if absent:
            lines.append(f"  {len(absent)} model parameters absent from the weights: {_shown(absent)}")
        if bad_unexpected:
            lines.append(f"  {len(bad_unexpected)} keys the model does not have: {_shown(bad_unexpected)}")
        raise CheckpointError("\n".join(lines))
    loadable = {k: v for k, v in sd.items() if k in own and k not in shapes}
    model.load_state_dict(loadable, strict=False)
    report = dict(loaded=sorted(loadable), missing=sorted(missing), unexpected=sorted(unexpected))
    logger.info(
        "loaded %d tensors from %s into %s; %d left at initialisation%s; %d not used%s",
        len(loadable),
        source,
        type(model).__name__,
        len(missing),
        f" ({_shown(report['missing'], 4)})" if missing else "",
        len(unexpected),
        f" ({_shown(report['unexpected'], 4)})" if unexpected else "",
    )
    return report
