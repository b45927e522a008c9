"""Classification checkpoint (ours, or a family's official format) -> detector backbone weights.

Built on :mod:`lgvit.checkpoint` only, so it never needs to know which family the backbone is:

1. :func:`read_state_dict` (``lgvit.checkpoint.read_state_dict``) reads and unwraps the file, in any form
   lgvit reads: ``.pth``/``.pt``/``.ckpt``, ``.safetensors``, or a timm model directory;
2. :func:`lgvit.checkpoint.adapt_state_dict` passes it through the model family's own filter (official
   format detection and conversion, window/size adaptation: paper A.1's bicubic resize for RegionViT);
3. keys of the modules the detector backbone pruned (the classifier and final norm, which
   :class:`~lgvit_det.LGViTBackbone` removes through ``prune_intermediate_layers``) are *dropped*;
4. the rest is checked strictly against the backbone (:func:`lgvit.checkpoint.check_state_dict`): every
   backbone weight must be there with its shape, except the detection-only keys
   (``lgvit.DETECTION_ONLY_KEYS``: the detection norms, which the paper adds for detection and trains
   from scratch), which are *new* (left at their initialisation). Anything else raises a
   :class:`~lgvit.checkpoint.CheckpointError` that names the keys.

The detector keeps the lgvit model under ``<path to LGViTBackbone>.model.`` (``backbone.bottom_up.model.``
in every config here, which is also the prefix of the official ``convert_cls_model_to_d2.py``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn as nn

from lgvit import DETECTION_ONLY_KEYS
from lgvit.checkpoint import CheckpointError, adapt_state_dict, check_state_dict, read_state_dict

from .backbone import LGViTBackbone

__all__ = [
    "CheckpointError",
    "backbone_prefix",
    "classification_to_detector",
    "is_detector_state_dict",
    "load_backbone_weights",
    "load_weights_file",
    "pruned_keys",
    "read_state_dict",
    "save_detector_checkpoint",
]

logger = logging.getLogger(__name__)


def _backbone(model: nn.Module) -> tuple[str, LGViTBackbone]:
    if isinstance(model, LGViTBackbone):
        return "", model
    found = [(n, m) for n, m in model.named_modules() if isinstance(m, LGViTBackbone)]
    if len(found) != 1:
        raise ValueError(f"expected exactly one LGViTBackbone in {type(model).__name__}, found {len(found)}")
    return found[0]


def backbone_prefix(model: nn.Module) -> str:
    """Key prefix of the lgvit model inside a detector, e.g. ``backbone.bottom_up.model.``."""
    name, _ = _backbone(model)
    return f"{name}.model." if name else "model."


def is_detector_state_dict(sd: Mapping[str, torch.Tensor]) -> bool:
    """True for Detectron2 detector weights (keys under ``backbone.``), False for classification ones."""
    return any(k.startswith("backbone.") for k in sd)


def pruned_keys(backbone: LGViTBackbone, keys: Any) -> list[str]:
    """The ``keys`` (of the lgvit model's state dict) that belong to modules the backbone does not use: a
    module (or one of its parents) that is an ``nn.Identity`` in the pruned model, or that pruning removed
    (``backbone.pruned_modules``). Family-blind: it looks at modules, never at names."""
    modules = dict(backbone.model.named_modules())
    removed = set(backbone.pruned_modules)
    out = []
    for key in keys:
        parts = key.split(".")[:-1]
        for i in range(1, len(parts) + 1):
            prefix = ".".join(parts[:i])
            module = modules.get(prefix)
            if isinstance(module, nn.Identity) or (module is None and prefix in removed):
                out.append(key)
                break
            if module is None:
                break
    return sorted(out)


def classification_to_detector(
    sd: Mapping[str, torch.Tensor], detector: nn.Module
) -> tuple[dict[str, torch.Tensor], dict[str, list[str]]]:
    """Converts classification weights (ours or the family's official format) into ``detector``'s keys.

    Args:
        sd: the classification state dict (already unwrapped, e.g. by :func:`read_state_dict`).
        detector: the detector (or any module holding exactly one :class:`LGViTBackbone`, or the backbone
            itself); its lgvit model's checkpoint filter adapts the weights, and they are checked against it.

    Returns:
        ``(detector_state_dict, report)``; the report lists ``loaded`` and ``new`` (left at initialisation:
        detection-only parts) detector keys, and the ``dropped`` checkpoint keys (classifier, final norm).

    Raises:
        CheckpointError: ``sd`` holds detector weights already, or does not fit the backbone (every
            missing, unexpected and mis-shaped key named).
    """
    if is_detector_state_dict(sd):
        raise CheckpointError(
            "these are detector weights already (keys start with 'backbone.'); load them directly"
        )
    name, backbone = _backbone(detector)
    prefix = f"{name}.model." if name else "model."
    model = backbone.model
    adapted = adapt_state_dict(dict(sd), model)
    dropped = pruned_keys(backbone, adapted)
    kept = {k: v for k, v in adapted.items() if k not in dropped}
    arch = (getattr(model, "pretrained_cfg", None) or {}).get("architecture")
    what = f"this detector's backbone ({type(model).__name__}{f' {arch!r}' if arch else ''} under '{prefix}')"
    try:
        missing, _ = check_state_dict(model, kept, strict=True, ignore_missing=DETECTION_ONLY_KEYS, what=what)
    except CheckpointError as e:
        raise CheckpointError(
            f"{e}\nPick the detection config whose backbone (model.backbone.bottom_up.model) is the "
            "checkpoint's architecture, or convert the checkpoint to this one."
        ) from e
    converted = {prefix + k: v for k, v in kept.items()}
    report = dict(loaded=sorted(converted), new=[prefix + k for k in missing], dropped=dropped)
    return converted, report


def load_backbone_weights(
    model: nn.Module, path_or_sd: str | os.PathLike | Mapping[str, Any]
) -> dict[str, list[str]]:
    """Initialises a detector's backbone from classification weights (a file or a state dict; ours or the
    family's official format), strictly checked (:func:`classification_to_detector`).

    Returns the report: ``loaded`` / ``new`` (left at init: detection norms) / ``dropped`` (classifier)."""
    converted, report = classification_to_detector(read_state_dict(path_or_sd), model)
    model.load_state_dict(converted, strict=False)
    logger.info(
        "backbone initialised from a classification checkpoint: %d tensors loaded, %d new (detection "
        "only), dropped (not in the detector): %s",
        len(converted),
        len(report["new"]),
        report["dropped"],
    )
    return report


def save_detector_checkpoint(
    model: nn.Module, sd: Mapping[str, torch.Tensor], path: str | os.PathLike
) -> dict[str, list[str]]:
    """Converts classification weights for ``model`` (checked as in :func:`load_backbone_weights`) and
    writes them as a Detectron2 checkpoint (``{"model": ...}``) that ``DetectionCheckpointer`` and
    ``train.init_checkpoint`` load directly. Returns the same report."""
    converted, report = classification_to_detector(sd, model)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    torch.save({"model": converted, "__author__": "lgvit_det"}, path)
    return report


def load_weights_file(model: nn.Module, path: str | os.PathLike) -> list[str]:
    """Loads weights in any form lgvit reads (``.pth``/``.pt``/``.ckpt``/``.safetensors``, a model
    directory) into a detector: classification weights through :func:`load_backbone_weights`, detector
    weights (keys under ``backbone.``) directly, every shape mismatch named. Returns the detector keys left
    at initialisation. (Detectron2's own ``.pkl`` model-zoo files are for its ``DetectionCheckpointer``.)"""
    sd = read_state_dict(path)
    target = model.module if hasattr(model, "module") else model
    if not is_detector_state_dict(sd):
        load_backbone_weights(target, sd)
        return sorted(k for k in target.state_dict() if not k.startswith("backbone.bottom_up."))
    what = f"this detector (weights {os.fspath(path)!r})"
    missing, unexpected = check_state_dict(target, sd, strict=False, what=what)
    if unexpected:
        logger.warning("%d keys of %s are not in the detector: %s", len(unexpected), path, unexpected[:10])
    target.load_state_dict(sd, strict=False)
    return sorted(missing)
