"""Classification checkpoint (ours or official RegionViT) -> detector backbone weights.

The detector keeps the lgvit model under ``<path to LGViTBackbone>.model.`` (``backbone.bottom_up.model.``
in every config here, which is also the prefix of the official ``convert_cls_model_to_d2.py``). The
conversion maps official names onto ours, resizes the window-dependent tensors to the detector's window
(paper A.1: bicubic), drops the classifier-only parts (``head``, final ``norm``) and prefixes the rest.
It is checked against the detector: every backbone weight must be present with the right shape, except
the detection LayerNorms (``det_norms``), which the paper adds for detection and trains from scratch.
A checkpoint of another architecture raises a ValueError that lists what does not match.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import torch
import torch.nn as nn

from lgvit.models.regionvit import adapt_window, convert_official_state_dict

from .backbone import CLASSIFIER_ONLY, LGViTBackbone

__all__ = [
    "backbone_prefix",
    "classification_to_detector",
    "is_detector_state_dict",
    "load_backbone_weights",
    "read_state_dict",
    "save_detector_checkpoint",
]

logger = logging.getLogger(__name__)
NEW_IN_DETECTION = ("det_norms.",)  # added for detection (paper A.2): absent from classification weights


def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Loads a checkpoint file (weights only, no code execution) and unwraps ``model`` / ``state_dict``."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # pickle errors come in many types
        raise ValueError(
            f"cannot read {path} as a weights-only PyTorch checkpoint ({type(e).__name__}: {e}); "
            "expected a state dict, or a dict with 'model' / 'state_dict'"
        ) from e
    for key in ("model", "state_dict", "model_state"):
        if isinstance(data, dict) and isinstance(data.get(key), dict):
            data = data[key]
            break
    if not isinstance(data, dict) or not all(isinstance(v, torch.Tensor) for v in data.values()):
        raise ValueError(f"{path} holds no state dict of tensors")
    return data


def backbone_prefix(model: nn.Module) -> str:
    """Key prefix of the lgvit model inside a detector, e.g. ``backbone.bottom_up.model.``."""
    names = [n for n, m in model.named_modules() if isinstance(m, LGViTBackbone)]
    if len(names) != 1:
        raise ValueError(f"expected exactly one LGViTBackbone in {type(model).__name__}, found {len(names)}")
    return f"{names[0]}.model." if names[0] else "model."


def _lgvit_model(model: nn.Module) -> nn.Module:
    return model.get_submodule(backbone_prefix(model)[: -len(".")])


def _is_official(sd: dict[str, torch.Tensor]) -> bool:
    return any(k.startswith("layers.") for k in sd) or "cls_token.proj.weight" in sd


def _official_window(sd: dict[str, torch.Tensor]) -> int:
    tables = [v for k, v in sd.items() if k.endswith("rel_pos")]
    if not tables:
        raise ValueError(
            "official RegionViT checkpoint without relative-position tables: cannot infer its window"
        )
    side = round(tables[0].shape[-1] ** 0.5)  # official tables are (heads, (2M-1)^2)
    return (side + 1) // 2


def is_detector_state_dict(sd: dict[str, torch.Tensor]) -> bool:
    """True for Detectron2 detector weights (keys under ``backbone.``), False for classification ones."""
    return any(k.startswith("backbone.") for k in sd)


def classification_to_detector(
    sd: dict[str, torch.Tensor], window: int | None = None, prefix: str = "backbone.bottom_up.model."
) -> tuple[dict[str, torch.Tensor], list[str]]:
    """Converts classification weights (ours or official) to detector keys.

    Args:
        sd: the classification state dict.
        window: the detector backbone's window (region side); window-dependent tensors are resized to
            it. None keeps the checkpoint's.
        prefix: where the lgvit model sits in the detector.

    Returns:
        ``(detector_state_dict, dropped_keys)``; dropped keys are the classifier-only parameters.
    """
    if is_detector_state_dict(sd):
        raise ValueError(
            "these are detector weights already (keys start with 'backbone.'); load them directly"
        )
    if _is_official(sd):
        sd = convert_official_state_dict(sd, _official_window(sd))
    if window is not None:
        sd = adapt_window(sd, window)
    dropped = sorted(k for k in sd if k.split(".")[0] in CLASSIFIER_ONLY)
    return {prefix + k: v for k, v in sd.items() if k not in dropped}, dropped


def _check(model: nn.Module, sd: dict[str, torch.Tensor], prefix: str) -> list[str]:
    """Raises a ValueError naming every mismatch between backbone weights ``sd`` and ``model``;
    returns the backbone keys left at their initialisation (the detection norms)."""
    own = {k: v for k, v in model.state_dict().items() if k.startswith(prefix)}
    mismatched = [
        f"{k}: checkpoint {tuple(v.shape)} vs detector {tuple(own[k].shape)}"
        for k, v in sd.items()
        if k in own and own[k].shape != v.shape
    ]
    missing = sorted(set(own) - set(sd))
    new = [k for k in missing if k[len(prefix) :].startswith(NEW_IN_DETECTION)]
    missing = [k for k in missing if k not in new]
    unexpected = sorted(set(sd) - set(own))
    if mismatched or missing or unexpected:
        parts = []
        for title, items in (
            ("shape mismatches", mismatched),
            ("missing", missing),
            ("unexpected", unexpected),
        ):
            if items:
                parts.append(
                    f"{title} ({len(items)}): " + ", ".join(items[:10]) + (" ..." if len(items) > 10 else "")
                )
        raise ValueError(
            "the checkpoint does not fit this detector's backbone "
            f"({type(_lgvit_model(model)).__name__} under '{prefix}'):\n  "
            + "\n  ".join(parts)
            + "\nIs it for another architecture or variant? Pick the config whose backbone matches the "
            "checkpoint (e.g. regionvit_b weights need a *_regionvit_b_* config)."
        )
    return new


def load_backbone_weights(
    model: nn.Module, path_or_sd: str | os.PathLike | dict[str, torch.Tensor]
) -> dict[str, Any]:
    """Initialises a detector's backbone from classification weights (ours or official), strictly checked.

    Returns a report: ``loaded`` / ``new`` (left at init: detection norms) / ``dropped`` (classifier) keys.
    """
    sd = path_or_sd if isinstance(path_or_sd, dict) else read_state_dict(path_or_sd)
    prefix = backbone_prefix(model)
    window = getattr(_lgvit_model(model), "window", None)
    converted, dropped = classification_to_detector(sd, window=window, prefix=prefix)
    new = _check(model, converted, prefix)
    model.load_state_dict(converted, strict=False)
    logger.info(
        f"backbone initialised from a classification checkpoint: {len(converted)} tensors loaded, "
        f"{len(new)} new (detection norms), classifier keys dropped: {dropped}"
    )
    return dict(loaded=sorted(converted), new=new, dropped=dropped)


def save_detector_checkpoint(
    model: nn.Module, sd: dict[str, torch.Tensor], path: str | os.PathLike
) -> dict[str, Any]:
    """Converts classification weights for ``model`` (checked as in :func:`load_backbone_weights`) and
    writes them as a Detectron2 checkpoint (``{"model": ...}``) that ``DetectionCheckpointer`` and
    ``train.init_checkpoint`` load directly. Returns the same report."""
    prefix = backbone_prefix(model)
    converted, dropped = classification_to_detector(
        sd, window=getattr(_lgvit_model(model), "window", None), prefix=prefix
    )
    new = _check(model, converted, prefix)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    torch.save({"model": converted, "__author__": "lgvit_det"}, path)
    return dict(loaded=sorted(converted), new=new, dropped=dropped)
