"""Detectron2 ``Backbone`` adapter over any lgvit model that exposes the multi-scale feature API.

The contract it relies on (``shared/DESIGN.md``): ``model.forward_pyramid(x)`` returns one NCHW map per
stage, and ``model.pyramid_channels`` / ``model.pyramid_strides`` declare them before running. For
RegionViT these are the *local* tokens of each stage (regional tokens are not used by detection),
passed through the detection LayerNorms that sit in the path (official ``det_norm``, paper A.2).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn as nn
from detectron2.layers import ShapeSpec
from detectron2.modeling import Backbone

__all__ = ["LGViTBackbone", "feature_name"]

# Parts of an lgvit classification model that ``forward_pyramid`` never uses. They are replaced by
# ``nn.Identity`` (as the official RegionViT detector deletes ``norm`` and ``head``): unused
# parameters would break DDP (no gradient), inflate parameter counts and get weight decay for nothing.
CLASSIFIER_ONLY = ("norm", "head", "head_drop", "fc_norm")

# Stem modules of lgvit models (frozen by ``freeze_at >= 1``), stages are ``stages.{i}``.
STEM = ("patch_embed", "region_embed", "pos_drop")


def feature_name(stride: int) -> str:
    """Detectron2's naming: the map at stride ``2**k`` is ``res{k}`` (stride 4 -> res2, 32 -> res5)."""
    k = int(math.log2(stride))
    if 2**k != stride:
        raise ValueError(f"pyramid strides must be powers of two, got {stride}")
    return f"res{k}"


class LGViTBackbone(Backbone):
    """Wraps an lgvit model as a Detectron2 backbone with outputs ``res2..res5``.

    Args:
        model: an lgvit model (e.g. ``lgvit.create_model("regionvit_s", num_classes=0, out_norms=True)``)
            with ``forward_pyramid`` and ``pyramid_channels`` / ``pyramid_strides``.
        out_features: which maps to return (default: all four, ``res2..res5``).
        freeze_at: 0 trains everything (the paper's setting); 1 freezes the stem (local and regional
            tokenizers); ``k >= 2`` also freezes stages ``0 .. k-2`` (Detectron2's ResNet convention).
        size_divisibility: images are padded to a multiple of this by the meta-architecture. 32 makes
            every map exactly ``H/stride x W/stride`` so that FPN's top-down sums line up.
        square_pad: if > 0, pad images to this square size (Detectron2's ``padding_constraints``).
        require_out_norms: RegionViT-style models must carry their detection LayerNorms (build them with
            ``out_norms=True``); set False to run a model without them on purpose.

    ``forward``: ``(B, 3, H, W)`` -> ``{"res{k}": (B, C_k, ceil(H / 2**k), ceil(W / 2**k))}``.
    """

    def __init__(
        self,
        model: nn.Module,
        out_features: Sequence[str] | None = None,
        freeze_at: int = 0,
        size_divisibility: int = 32,
        square_pad: int = 0,
        require_out_norms: bool = True,
    ):
        super().__init__()
        missing = [
            a for a in ("forward_pyramid", "pyramid_channels", "pyramid_strides") if not hasattr(model, a)
        ]
        if missing:
            raise TypeError(
                f"{type(model).__name__} lacks the lgvit multi-scale feature API ({', '.join(missing)}); "
                "LGViTBackbone needs forward_pyramid(x) plus pyramid_channels / pyramid_strides"
            )
        if require_out_norms and getattr(model, "det_norms", ...) is None:
            raise ValueError(
                f"{type(model).__name__} was built without its detection LayerNorms; build it with "
                "out_norms=True (the official RegionViT detection setting, paper A.2), or pass "
                "require_out_norms=False to use un-normalised features on purpose"
            )
        for name in CLASSIFIER_ONLY:
            if isinstance(getattr(model, name, None), nn.Module):
                setattr(model, name, nn.Identity())
        self.model = model

        names = [feature_name(s) for s in model.pyramid_strides]
        self._all_features = names
        self._out_features = list(out_features) if out_features is not None else names
        unknown = sorted(set(self._out_features) - set(names))
        if unknown:
            raise ValueError(f"unknown out_features {unknown}; this backbone provides {names}")
        self._out_feature_channels = dict(zip(names, model.pyramid_channels))
        self._out_feature_strides = dict(zip(names, model.pyramid_strides))
        self._size_divisibility = size_divisibility
        self._square_pad = square_pad
        self.freeze(freeze_at)

    def freeze(self, freeze_at: int = 0) -> LGViTBackbone:
        """Stops gradients of the stem (``freeze_at >= 1``) and of the first ``freeze_at - 1`` stages."""
        prefixes = []
        if freeze_at >= 1:
            prefixes += [f"{m}." for m in STEM]
        prefixes += [f"stages.{i}." for i in range(max(0, freeze_at - 1))]
        for name, p in self.model.named_parameters():
            if name.startswith(tuple(prefixes)):
                p.requires_grad_(False)
        return self

    @property
    def size_divisibility(self) -> int:
        return self._size_divisibility

    @property
    def padding_constraints(self) -> dict[str, int]:
        return {"size_divisibility": self._size_divisibility, "square_size": self._square_pad}

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``(B, C_in, H, W)`` normalised images -> ``{name: (B, C_k, H_k, W_k)}`` for ``out_features``."""
        feats = self.model.forward_pyramid(x)
        out = dict(zip(self._all_features, feats))
        return {k: out[k] for k in self._out_features}

    def output_shape(self) -> dict[str, ShapeSpec]:
        return {
            k: ShapeSpec(channels=self._out_feature_channels[k], stride=self._out_feature_strides[k])
            for k in self._out_features
        }
