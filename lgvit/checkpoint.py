"""Reading, checking, adapting and writing checkpoints for every lgvit family (one module, used by all).

Weights come in three forms, all read by ONE reader, :func:`read_checkpoint` (the format is told by the
content, never by the file name):

* a ``torch.save`` file (``.pth``, ``.pt``, ``.bin``, ``.ckpt``, ``.pth.tar``): a state dict or a training
  checkpoint holding one (read with ``weights_only=True``);
* a ``.safetensors`` file (a flat state dict);
* a model directory as timm shares models (``timm.models.save_for_hf`` or :func:`save_pretrained`):
  ``config.json`` (architecture, model arguments, ``pretrained_cfg``) + ``model.safetensors`` (or
  ``pytorch_model.bin``). ``timm.create_model("local-dir:DIR", pretrained=True)`` rebuilds the model from
  it after ``import lgvit``.

Every way a file can be wrong (missing, empty, truncated, damaged, not a checkpoint, holding code objects)
becomes one :class:`CheckpointError` naming it, with the same wording for every format.

* :func:`unwrap_state_dict` finds the state dict inside training checkpoints (one list of wrapper keys,
  :data:`WRAPPER_KEYS`) and strips DDP's ``module.`` prefix; :func:`read_state_dict` = read + unwrap.
* :func:`adapt_state_dict` passes a state dict through the model family's own filter
  (``model.checkpoint_filter``: official-format conversion, window/size adaptation), so glue code never
  needs to know which family it holds.
* :func:`check_state_dict` / :func:`load_state_dict` name every missing, unexpected and mis-shaped key.
* :func:`load_pretrained` = all of the above for an image model (classifier of another size dropped).
* :func:`save_pretrained` writes a model directory (timm's layout); :func:`save_state_dict` writes final
  weights as ``.safetensors`` or ``.pth`` (by the suffix), atomically.

What each entry point calls:

============================================== ==========================================================
initial weights of an image model (any trainer) ``load_pretrained(model, path)``
initial weights of a video model                ``video.models.checkpoint`` (built on ``read_state_dict``)
initial weights of a detector backbone          ``lgvit_det.checkpoint.load_backbone_weights(model, path)``
``--weights`` / evaluation of a trained model   ``load_state_dict(model, read_state_dict(path))``
final weights at the end of training            ``save_state_dict(model, out / "model_final.safetensors")``
                                                and, for a timm-registered image model,
                                                ``save_pretrained(model, out / "model")``
resumable training state                        the trainer's own ``torch.save`` dict, read back with
                                                ``read_checkpoint(path)``
============================================== ==========================================================
"""

from __future__ import annotations

import fnmatch
import logging
import os
import pickle
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
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
    "find_model_weights",
    "read_checkpoint",
    "read_state_dict",
    "save_pretrained",
    "save_state_dict",
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


# Weights files inside a model directory, in timm's order of preference (``timm.models._hub``), then ours.
MODEL_DIR_WEIGHTS = ("model.safetensors", "pytorch_model.bin", "pytorch_model.pth", "model.pth")
WEIGHT_SUFFIXES = (".safetensors", ".pth", ".pt", ".bin", ".ckpt", ".pth.tar")
_ZIP_MAGIC = b"PK\x03\x04"  # torch.save's (zip) format
_PICKLE_MAGIC = b"\x80"  # legacy torch.save / plain pickle (protocol 2+)


def _is_safetensors(path: str, head: bytes) -> bool:
    """By content first (8-byte little-endian header length, then the JSON header's ``{``), by name only
    for a file too short to tell."""
    if head[8:9] == b"{":
        return True
    short = len(head) < 9 and not head.startswith((_ZIP_MAGIC, _PICKLE_MAGIC))
    return short and path.lower().endswith(".safetensors")


def find_model_weights(directory: str | os.PathLike) -> str:
    """The weights file of a model directory (timm's ``save_for_hf`` / :func:`save_pretrained` layout:
    ``config.json`` + ``model.safetensors`` or ``pytorch_model.bin``), else its only weights file.
    Raises :class:`CheckpointError` naming what the directory holds."""
    directory = os.fspath(directory)
    for name in MODEL_DIR_WEIGHTS:
        if os.path.isfile(os.path.join(directory, name)):
            return os.path.join(directory, name)
    found = sorted(f for f in os.listdir(directory) if f.lower().endswith(WEIGHT_SUFFIXES))
    if len(found) == 1:
        return os.path.join(directory, found[0])
    listing = ", ".join(sorted(os.listdir(directory))[:12]) or "nothing"
    if found:
        raise CheckpointError(
            f"directory {directory!r} holds several weights files ({', '.join(found[:8])}); pass one of them"
        )
    raise CheckpointError(
        f"directory {directory!r} is not a model directory: none of {', '.join(MODEL_DIR_WEIGHTS)} (it "
        f"holds {listing}). Pass a weights file, or a directory written by lgvit.checkpoint.save_pretrained "
        "or timm's save_for_hf"
    )


def _read_safetensors(path: str, size: int, head: bytes) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(path, device="cpu")
    except SafetensorError as e:
        if head[8:9] == b"{" or len(head) < 9:
            raise CheckpointError(
                f"checkpoint {path!r} is truncated or damaged ({size} bytes; safetensors: {e})"
            ) from e
        raise CheckpointError(
            f"{path!r} is not a PyTorch checkpoint nor a safetensors file ({size} bytes; {e})"
        ) from e


def read_checkpoint(path: str | os.PathLike) -> Any:
    """Reads any weights file lgvit accepts, on the CPU and without executing code: ``torch.save`` files
    (``.pth``/``.pt``/``.bin``/``.ckpt``/``.pth.tar``, read with ``weights_only=True``), ``.safetensors``
    files (the format is told by the content, never by the name) and model directories (timm's
    ``save_for_hf`` / :func:`save_pretrained` layout: the weights file inside, :func:`find_model_weights`).

    Raises ``FileNotFoundError`` (naming the path) or :class:`CheckpointError` for an empty, truncated,
    damaged or foreign file (the same messages for every format), and for files that hold pickled code
    objects. Returns what the file holds (a training checkpoint dict or a state dict); use
    :func:`read_state_dict` for the weights alone.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"checkpoint file {path!r} does not exist")
    if os.path.isdir(path):
        path = find_model_weights(path)
    size = os.path.getsize(path)
    if size == 0:
        raise CheckpointError(f"checkpoint {path!r} is empty (0 bytes): it was not written completely")
    with open(path, "rb") as f:
        head = f.read(16)
    if _is_safetensors(path, head):
        return _read_safetensors(path, size, head)
    try:
        with open(path, "rb") as f:  # a file object: torch.load would pick its reader by the name
            return torch.load(f, map_location="cpu", weights_only=True)
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
        if head.startswith(_ZIP_MAGIC):  # a cut-off zip keeps its header
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
    """The weights alone, from a path in any form :func:`read_checkpoint` reads (``.pth``/``.pt``/``.ckpt``,
    ``.safetensors``, a model directory) or from a dict already in memory: :func:`read_checkpoint` +
    :func:`unwrap_state_dict` (``ema``: the EMA weights of a training checkpoint). This is the function
    every entry point that takes weights should call."""
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


def _tensors_for_saving(state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """CPU, contiguous, and no two entries sharing memory (safetensors refuses shared storage)."""
    out: dict[str, torch.Tensor] = {}
    seen: set[tuple[int, int]] = set()
    for k, v in state_dict.items():
        if not isinstance(v, torch.Tensor):
            continue
        t = v.detach().cpu().contiguous()
        key = (t.untyped_storage().data_ptr(), t.storage_offset()) if t.numel() else (id(t), 0)
        out[k] = t.clone() if key in seen else t
        seen.add(key)
    return out


def save_state_dict(
    weights: nn.Module | Mapping[str, torch.Tensor], path: str | os.PathLike, metadata: dict | None = None
) -> Path:
    """Writes final weights (a model's state dict, or a state dict) to ``path``: ``.safetensors`` when the
    suffix says so, else ``torch.save`` of the plain state dict. Written to a temporary file first and
    renamed, so an interrupted write never leaves a damaged file under the final name. Read it back with
    :func:`read_state_dict` / :func:`load_pretrained`. ``metadata``: string pairs stored in a
    ``.safetensors`` header. Returns the path."""
    path = Path(path)
    sd = weights.state_dict() if isinstance(weights, nn.Module) else weights
    sd = _tensors_for_saving(sd)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    if path.suffix.lower() == ".safetensors":
        from safetensors.torch import save_file

        meta = {"format": "pt", **{str(k): str(v) for k, v in (metadata or {}).items()}}
        save_file(sd, str(tmp), metadata=meta)
    else:
        torch.save(sd, tmp)
    os.replace(tmp, path)
    return path


def _json_plain(value: Any) -> Any:
    """``value`` with every non-string sequence as a list and every mapping as a dict (e.g. OmegaConf's
    ListConfig/DictConfig, tuples), so that JSON can hold it; other values unchanged."""
    if isinstance(value, Mapping):
        return {k: _json_plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return [_json_plain(v) for v in value]
    return value


def save_pretrained(
    model: nn.Module,
    directory: str | os.PathLike,
    model_args: dict[str, Any] | None = None,
    label_names: Sequence[str] | None = None,
) -> Path:
    """Writes ``model`` as a model directory in timm's layout: ``config.json`` (architecture, the model
    arguments needed to rebuild it, ``num_classes``, ``pretrained_cfg``; written by timm's own
    ``save_config_for_hf``) + ``model.safetensors``. ``timm.create_model("local-dir:DIR", pretrained=True)``
    (after ``import lgvit``) rebuilds the same model with the same weights; ``huggingface-cli upload`` of
    the directory shares it (then ``hf-hub:<user>/<repo>``).

    Args:
        model: a model built by ``lgvit.create_model`` or ``timm.create_model`` (it carries its
            ``pretrained_cfg``; the arguments it was built with are recorded).
        directory: created if needed; ``config.json`` and ``model.safetensors`` in it are replaced.
        model_args: extra or replacement constructor arguments to record (must be JSON-serialisable).
        label_names: class names (index = class), stored as ``label_names``.

    Returns the directory. Raises :class:`CheckpointError` for a model timm cannot describe.
    """
    from timm.models._hub import save_config_for_hf

    cfg = getattr(model, "pretrained_cfg", None) or {}
    if not cfg.get("architecture"):
        raise CheckpointError(
            f"{type(model).__name__} has no pretrained_cfg architecture: build it with lgvit.create_model or "
            "timm.create_model (a video model or a detector is saved with save_state_dict)"
        )
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config = dict(label_names=list(label_names)) if label_names else None
    # arguments recorded from a lazy config arrive as OmegaConf containers: JSON holds their plain values
    recorded = {k: _json_plain(v) for k, v in (getattr(model, "_model_args", None) or {}).items()}
    model_args = {**recorded, **(model_args or {})}
    tmp_cfg = directory / "config.json.tmp"
    try:
        save_config_for_hf(model, tmp_cfg, model_config=config, model_args=model_args)
    except ValueError as e:  # a constructor argument that JSON cannot hold (e.g. a norm_layer callable)
        tmp_cfg.unlink(missing_ok=True)
        raise CheckpointError(f"cannot describe {cfg['architecture']!r} in config.json: {e}") from e
    save_state_dict(model, directory / "model.safetensors")
    os.replace(tmp_cfg, directory / "config.json")
    return directory
