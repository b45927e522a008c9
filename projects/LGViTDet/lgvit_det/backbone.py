"""Detectron2 ``Backbone`` adapter over any lgvit model (the backbone contract, ``lgvit.LGViTModel``).

It talks to the model only through the contract (``shared/DESIGN.md``), never through a family's module
names: ``forward_pyramid(x)`` gives one detection-ready NCHW map per stage, declared beforehand by
``pyramid_channels`` / ``pyramid_strides``; the detection norms are the family-agnostic ``out_norms``
switch; the classifier and final norm are removed by ``prune_intermediate_layers``; freezing goes through
``group_matcher()`` (the stem) and ``group_matcher(coarse=True)`` (one parameter group per stage).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn as nn
from detectron2.layers import ShapeSpec
from detectron2.modeling import Backbone

__all__ = ["LGViTBackbone", "feature_name", "stem_and_stage_parameters"]

# What LGViTBackbone uses of the contract (checked up front, so a wrong model fails with one clear error).
CONTRACT = (
    "forward_pyramid",
    "pyramid_channels",
    "pyramid_strides",
    "out_norms",
    "stages",
    "group_matcher",
    "prune_intermediate_layers",
)


def feature_name(stride: int) -> str:
    """Detectron2's naming: the map at stride ``2**k`` is ``res{k}`` (stride 4 -> res2, 32 -> res5)."""
    k = int(math.log2(stride))
    if 2**k != stride:
        raise ValueError(f"pyramid strides must be powers of two, got {stride}")
    return f"res{k}"


def _patterns(spec: Any) -> list[re.Pattern]:
    """A timm group-matcher entry (a regex, or a list of ``(regex, ordinal suffix)``) -> compiled regexes."""
    if spec is None:
        return []
    if isinstance(spec, str):
        return [re.compile(spec)]
    return [re.compile(s[0] if isinstance(s, (tuple, list)) else s) for s in spec]


def stem_and_stage_parameters(model: nn.Module) -> tuple[list[str], list[list[str]]]:
    """Parameter names of the stem and of each stage, read from the model's ``group_matcher``.

    The stem is what ``group_matcher()["stem"]`` matches. Stage membership comes from
    ``group_matcher(coarse=True)["blocks"]``: the ids a pattern captures (e.g. ``^stages\\.(\\d+)``) order
    the groups; a pattern that captures nothing (e.g. timm's ``(r"^norm", (99999,))``) is no stage.
    Parameters matched by neither (detection norms, heads) belong to no group.

    Returns ``(stem_names, [stage_0_names, stage_1_names, ...])``.
    """
    stem = _patterns(model.group_matcher()["stem"])
    blocks = _patterns(model.group_matcher(coarse=True)["blocks"])
    stem_names: list[str] = []
    stages: dict[tuple[int, ...], list[str]] = defaultdict(list)
    for name, _ in model.named_parameters():
        if any(p.match(name) for p in stem):
            stem_names.append(name)
            continue
        for p in blocks:
            m = p.match(name)
            if m:
                ids = tuple(int(g) for g in m.groups() if g is not None and g.isdigit())
                if ids:
                    stages[ids].append(name)
                break
    return stem_names, [stages[k] for k in sorted(stages)]


def _has_weights(module: nn.Module) -> bool:
    return next(module.parameters(), None) is not None or next(module.buffers(), None) is not None


class LGViTBackbone(Backbone):
    """Wraps an lgvit model as a Detectron2 backbone with outputs ``res2..res5``.

    The model's classifier and final norm are removed through its own API
    (``prune_intermediate_layers(num_stages, prune_norm=True, prune_head=True)``: every stage is kept, the
    final norm and the head become ``nn.Identity``), as the official RegionViT detector deletes them:
    unused parameters would break DDP (no gradient), inflate parameter counts and get weight decay for
    nothing. Every parameter left is used by ``forward_pyramid``.

    Args:
        model: an lgvit model (e.g. ``lgvit.create_model("regionvit_s", num_classes=0, out_norms=True)``).
        out_features: which maps to return (default: all four, ``res2..res5``).
        freeze_at: 0 trains everything (the paper's setting); 1 freezes the stem (what the model's
            ``group_matcher()["stem"]`` matches); ``k >= 2`` also freezes stages ``0 .. k-2``
            (Detectron2's ResNet convention; stages as ``group_matcher(coarse=True)["blocks"]`` says).
        size_divisibility: images are padded to a multiple of this by the meta-architecture. 32 makes
            every map exactly ``H/stride x W/stride`` so that FPN's top-down sums line up.
        square_pad: if > 0, pad images to this square size (Detectron2's ``padding_constraints``).
        require_out_norms: the model must carry its detection norms (built with ``out_norms=True``, the
            official RegionViT detection setting); set False to run a model without them on purpose.

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
        missing = [a for a in CONTRACT if not hasattr(model, a)]
        if missing:
            raise TypeError(
                f"{type(model).__name__} does not follow the lgvit backbone contract (lacks "
                f"{', '.join(missing)}); LGViTBackbone needs an lgvit.LGViTModel (forward_pyramid(x) "
                "plus pyramid_channels / pyramid_strides, group_matcher, prune_intermediate_layers)"
            )
        if require_out_norms and not model.out_norms:
            raise ValueError(
                f"{type(model).__name__} was built without its detection norms; build it with "
                "out_norms=True (the official RegionViT detection setting, paper A.2), or pass "
                "require_out_norms=False to use un-normalised features on purpose"
            )
        # modules with weights before pruning that are gone or nn.Identity after it: a classification
        # checkpoint has their weights, this backbone does not use them (lgvit_det.checkpoint drops them)
        before = [n for n, m in model.named_modules() if n and _has_weights(m)]
        model.prune_intermediate_layers(len(model.stages), prune_norm=True, prune_head=True)
        after = dict(model.named_modules())
        self.pruned_modules = tuple(
            sorted(n for n in before if n not in after or isinstance(after[n], nn.Identity))
        )
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
        """Stops gradients of the stem (``freeze_at >= 1``) and of stages ``0 .. freeze_at - 2``.

        Raises a ValueError if ``freeze_at`` asks for more stages than the model has, or if the model's
        ``group_matcher`` finds nothing to freeze."""
        if freeze_at < 0:
            raise ValueError(f"freeze_at must be >= 0, got {freeze_at}")
        if freeze_at == 0:
            return self
        stem, stages = stem_and_stage_parameters(self.model)
        what = f"{type(self.model).__name__}.group_matcher"
        if freeze_at - 1 > len(stages):
            raise ValueError(
                f"freeze_at={freeze_at} asks to freeze the stem and {freeze_at - 1} stages, but "
                f"{what}(coarse=True) finds {len(stages)} stages: use freeze_at <= {len(stages) + 1}"
            )
        if not stem:
            raise ValueError(
                f"freeze_at={freeze_at} would not freeze the stem: {what}()['stem'] "
                f"({self.model.group_matcher()['stem']!r}) matches no parameter"
            )
        names = stem + [n for group in stages[: freeze_at - 1] for n in group]
        params = dict(self.model.named_parameters())
        for n in names:
            params[n].requires_grad_(False)
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
