"""The lgvit backbone contract: what every model family provides, and the parts they share.

Every lgvit model is an :class:`LGViTModel`. Glue code (the Detectron2 adapter, the video wrapper, the
checkpoint module, trainers and tools) talks to a model only through this contract, never through a
family's module or key names. A new family is checked by ``tests/test_contract.py`` the moment it
registers a model.

What a family implements (see ``regionvit.py`` for a complete example)
----------------------------------------------------------------------
* ``__init__`` builds ``self.stages`` (an ``nn.ModuleList``; stage ``i`` keeps its encoder blocks in
  ``stages[i].blocks``) and calls :meth:`LGViTModel.init_contract`, which declares the pyramid and builds
  the parts every family shares: the final ``norm``, ``global_pool``, ``head_drop``, ``head`` and the
  optional detection norms ``det_norms`` (``out_norms=True``, the one family-agnostic switch; the norms
  sit in the pyramid path: a stage's map is normalised, and the normalised map is both the output and
  the next stage's input, as in the official RegionViT detector).
* its stages as :class:`LGViTStage` subclasses (the shared block loop with gradient checkpointing), its
  constructor arguments checked by :func:`check_architecture` and its stochastic depth from
  :func:`drop_path_rates`.
* ``forward_stages(x, num_frames=1, pyramid_norms=False, stop_at=-1) -> (head_map, pyramid)``
  (single-stream families inherit it: ``forward_stem``, then the stages; RegionViT overrides it):
  ``x`` ``(B*T, C_in, H, W)`` (``T = num_frames`` consecutive frames of each clip, frame-major);
  ``head_map`` ``(B*T, C, h, w)`` is what the classifier pools (before the final norm); ``pyramid`` holds
  one NCHW map per stage that ran, ``(B*T, pyramid_channels[i], ceil(H / stride_i), ceil(W / stride_i))``.
  Stages after ``stop_at`` (if >= 0) are skipped. Any input size works (pad + mask inside, crop back).
* ``group_matcher(coarse)``: ``stem`` and ``blocks`` patterns (freezing and layer-wise decay use them).
* ``checkpoint_filter(state_dict)``: recognises the family's official format and adapts window/size
  dependent tensors to this model (used by :mod:`lgvit.checkpoint` and timm's pretrained loading).
* ``no_weight_decay()``: parameter names trained without weight decay besides norms and biases.
* ``_head_map_after_prune(max_index)`` (optional): called when pruning removes the last stages.

The encoder-block calling convention (what the video wrapper relies on)
-----------------------------------------------------------------------
Each block in ``stages[i].blocks`` is called as ``block(x, num_frames, hw, bias)`` with ``x`` of shape
``(B*T, L, C)``: the ``L`` tokens of one frame in a **frame-stable layout** -- token ``l`` is the same
image position in every frame of a clip and in every block of the stage -- and returns the same shape.
Anything that moves tokens per frame (RSIR's permutations, SALG's per-frame regions) happens inside the
block and is undone before it returns. ``num_frames`` is passed explicitly (never stored in a module);
image models pass 1. ``hw`` ``(int, int)`` and ``bias`` (an optional additive attention mask) are
the family's per-stage geometry (SALG: the map size; RegionViT: the region size and its padding mask;
RSIR: unused). A block declares whether its attention calls can attend jointly over the frames of a clip
with the class attribute ``supports_joint_space_time`` (the video wrapper reads it); such blocks pass
``num_frames`` and the number of token groups per frame (windows, regions: the attention input is
``(B*T*groups, N, C)``) to their ``lgvit.layers.Attention`` calls, so that the joint space-time setting
can attend across frames.
"""

import numbers
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from typing import Any, List, Tuple, Union

import torch
import torch.nn as nn
from timm.data import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD
from timm.layers import SelectAdaptivePool2d, register_notrace_function, trunc_normal_
from timm.models import build_model_with_cfg
from timm.models._features import feature_take_indices
from torch.utils.checkpoint import checkpoint

from .._registry import drop_pretrained_state_dict, pretrained_state_dict_overlay
from ..checkpoint import DETECTION_ONLY_KEYS
from ..layers import LayerNorm2d, autocast_enabled, capturing_graph

__all__ = [
    "DETECTION_ONLY_KEYS",
    "LGViTModel",
    "LGViTStage",
    "build_lgvit_model",
    "build_stages",
    "check_architecture",
    "check_image_input",
    "drop_path_rates",
]


def _is_int(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def check_architecture(
    dims: Sequence[int],
    depths: Sequence[int],
    heads: Sequence[int],
    in_chans: int,
    num_classes: int,
    drop_path_rate: float,
    window: int | None = None,
    **per_stage: Sequence[Any],
) -> None:
    """Refuses a bad architecture at construction with a ValueError that names the argument (instead of a
    modulo by zero or a "negative dimension" deep in the first forward). ``per_stage``: further
    sequences with at most one entry per stage (e.g. SALG's ``pads``)."""
    lists = dict(dims=dims, depths=depths, heads=heads)
    for name, v in lists.items():
        if isinstance(v, (str, bytes)) or not isinstance(v, Sequence) or len(v) == 0:
            raise ValueError(f"{name} must be a non-empty sequence with one entry per stage, got {v!r}")
        if not all(_is_int(i) and i > 0 for i in v):
            raise ValueError(f"{name} must be positive integers, got {tuple(v)}")
    if not (len(dims) == len(depths) == len(heads)):
        raise ValueError(f"dims, depths and heads need one entry per stage, got {dims}, {depths}, {heads}")
    for name, v in per_stage.items():
        if len(v) > len(dims):
            raise ValueError(
                f"at most one {name} entry per stage, got {name}={tuple(v)} for {len(dims)} stages"
            )
    bad_heads = [(d, h) for d, h in zip(dims, heads) if d % h]
    if bad_heads:
        raise ValueError(f"each stage's width must be divisible by its heads, got (dim, heads) {bad_heads}")
    if not _is_int(in_chans) or in_chans < 1:
        raise ValueError(f"in_chans must be a positive integer (3 for RGB), got {in_chans!r}")
    if not _is_int(num_classes) or num_classes < 0:
        raise ValueError(f"num_classes must be an integer >= 0 (0 for no classifier), got {num_classes!r}")
    if not isinstance(drop_path_rate, numbers.Real) or not 0.0 <= drop_path_rate < 1.0:
        raise ValueError(
            f"drop_path_rate must be in [0, 1) (a probability of dropping a block), got {drop_path_rate!r}"
        )
    if window is not None and (not _is_int(window) or window < 1):
        raise ValueError(f"window must be a positive integer (tokens per window side), got {window!r}")


def drop_path_rates(drop_path_rate: float, depths: Sequence[int]) -> List[List[float]]:
    """Stochastic depth per block, rising linearly from 0 to ``drop_path_rate`` over all blocks (Swin,
    DeiT), split per stage. Computed on the CPU: building under ``with torch.device("meta")`` still works."""
    dpr = torch.linspace(0, drop_path_rate, sum(depths), device="cpu").tolist()
    return [dpr[sum(depths[:i]) : sum(depths[: i + 1])] for i in range(len(depths))]


def build_stages(
    make_stage: Callable[[int, int, int, int, int, List[float]], nn.Module],
    dims: Sequence[int],
    depths: Sequence[int],
    heads: Sequence[int],
    drop_path_rate: float,
) -> nn.ModuleList:
    """A model's stages, one per entry of ``dims``: ``make_stage(index, in_dim, dim, depth, num_heads,
    drop_path)`` builds stage ``index`` from the previous stage's width (``dims[0]``, the stem's, for the
    first stage), its depth and heads and its share of the stochastic-depth schedule
    (:func:`drop_path_rates`). A family passes only what is its own (its stage class and options)."""
    rates = drop_path_rates(drop_path_rate, depths)
    in_dims = [dims[0], *dims[:-1]]
    return nn.ModuleList(
        make_stage(i, in_dims[i], dims[i], depths[i], heads[i], rates[i]) for i in range(len(dims))
    )


class LGViTStage(nn.Module):
    """What the stages of every family share: ``blocks`` (an ``nn.ModuleList`` of encoder blocks following
    the calling convention) and the block loop with gradient checkpointing."""

    def __init__(self) -> None:
        super().__init__()
        self.grad_checkpointing = False

    def forward_blocks(
        self,
        x: torch.Tensor,
        num_frames: int,
        hw: Tuple[int, int],
        bias: torch.Tensor | None = None,
        start: int = 0,
        stop: int = -1,
    ) -> torch.Tensor:
        """Runs blocks ``start .. stop - 1`` (``stop < 0``: to the end) as ``block(x, num_frames, hw, bias)``,
        each under activation checkpointing when enabled and training with gradients."""
        for i, blk in enumerate(self.blocks):
            if i >= start and (stop < 0 or i < stop):  # (TorchScript unrolls the loop: no `continue`)
                if self.grad_checkpointing and not torch.jit.is_scripting() and torch.is_grad_enabled():
                    x = checkpoint(blk, x, num_frames, hw, bias, use_reentrant=False)
                else:
                    x = blk(x, num_frames, hw, bias)
        return x


@register_notrace_function  # shape checks cannot be traced symbolically; FX keeps this as one call
def check_image_input(
    x: torch.Tensor, in_chans: int, min_size: int, dtype: torch.dtype | None = None
) -> None:
    """Raises a ValueError that says what is wrong with an input batch ``(B, in_chans, H, W)``.

    ``dtype``: the model's parameter dtype. A floating-point batch of another dtype (float16/bfloat16
    into a float32 model) is refused with the two ways to run it, outside autocast (which casts per op);
    it is not cast silently, since that would hide a precision or memory choice the caller made."""
    if x.dim() != 4:
        raise ValueError(f"expected an image batch of shape (B, {in_chans}, H, W), got {list(x.shape)}")
    if x.shape[1] != in_chans:
        raise ValueError(
            f"expected {in_chans} input channels, got {x.shape[1]} (shape {list(x.shape)}); convert "
            f"grayscale/RGBA images to RGB or build the model with in_chans={x.shape[1]}"
        )
    if x.shape[2] < min_size or x.shape[3] < min_size:
        raise ValueError(
            f"image {x.shape[2]}x{x.shape[3]} is smaller than one {min_size}x{min_size} patch; "
            "upsample or pad it"
        )
    if not x.is_floating_point():
        raise ValueError(
            f"expected a floating-point image batch, got {x.dtype}; convert it with x.float() (and "
            "normalise it as the model's pretrained_cfg mean/std say)"
        )
    if dtype is not None and x.dtype != dtype and not autocast_enabled(x.device):
        raise ValueError(
            f"image batch is {x.dtype} but the model's weights are {dtype}: convert the batch "
            f"(x.to({dtype})), convert the model (model.to({x.dtype})), or run under torch.autocast"
        )


def init_vit_weights(module: nn.Module) -> None:
    """ViT/Swin initialisation: truncated-normal (std 0.02) linear weights, zero biases, unit LayerNorms."""
    if isinstance(module, nn.Linear):
        trunc_normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


class LGViTModel(nn.Module):
    """Base class of every lgvit model family (see the module docstring for the contract).

    Shared here: ``forward_features`` / ``forward_head`` / ``forward`` / ``forward_pyramid``,
    ``forward_intermediates`` and ``prune_intermediate_layers`` (timm's feature API), ``reset_classifier``
    (keeps device, dtype and train/eval mode), grad checkpointing, input checks.
    """

    def init_contract(
        self,
        dims: Sequence[int],
        strides: Sequence[int],
        in_chans: int,
        num_classes: int,
        global_pool: str = "avg",
        drop_rate: float = 0.0,
        norm_layer: Any = nn.LayerNorm,
        out_norms: bool = False,
        min_input_size: int = 4,
    ) -> None:
        """Declares the pyramid (``dims`` channels at ``strides``) and builds the shared head parts.

        ``norm_layer(C)`` is the final (channel-last) norm before the classifier; ``out_norms`` adds the
        detection norms of the pyramid path; ``min_input_size`` is the smallest image side the stem
        accepts. Call it at the end of the family's ``__init__``, after
        ``self.stages`` exists."""
        if num_classes < 0:
            raise ValueError(f"num_classes must be >= 0 (0 for no classifier), got {num_classes}")
        if len(dims) != len(strides) or len(dims) != len(self.stages):
            raise ValueError(f"one pyramid entry per stage: {len(self.stages)} stages, dims {dims}")
        self.in_chans = in_chans
        self.min_input_size = min_input_size
        self.num_classes = num_classes
        self.pyramid_channels = tuple(int(d) for d in dims)
        self.pyramid_strides = tuple(int(s) for s in strides)
        self.out_norms = out_norms
        # one entry per stage (Identity when off) so that scripting can zip it with the stages
        self.det_norms = nn.ModuleList(LayerNorm2d(d, eps=1e-5) if out_norms else nn.Identity() for d in dims)
        self.feature_info = [
            dict(num_chs=c, reduction=s, module=f"stages.{i}")
            for i, (c, s) in enumerate(zip(self.pyramid_channels, self.pyramid_strides))
        ]
        self.num_features = self.pyramid_channels[-1]
        self.norm = norm_layer(self.num_features)
        self._norm_layer = norm_layer
        self.global_pool = self._make_pool(global_pool)
        self.head_hidden_size = self.num_features * self.global_pool.feat_mult()
        self.head_drop = nn.Dropout(drop_rate)
        self.head = nn.Linear(self.head_hidden_size, num_classes) if num_classes > 0 else nn.Identity()
        self.grad_checkpointing = False

    def init_weights_and_place(self, device: Any = None, dtype: Any = None) -> None:
        """The last step of a family's ``__init__``: :func:`init_vit_weights` on every module, then timm's
        ``device`` / ``dtype`` factory arguments."""
        self.apply(init_vit_weights)
        if device is not None or dtype is not None:
            self.to(device=device, dtype=dtype)

    @staticmethod
    def _make_pool(global_pool: str) -> SelectAdaptivePool2d:
        choices = ("", "avg", "max", "avgmax", "catavgmax")
        if global_pool not in choices:
            raise ValueError(f"global_pool must be one of {choices}, got {global_pool!r}")
        return SelectAdaptivePool2d(pool_type=global_pool, flatten=bool(global_pool))

    # -- what families provide -------------------------------------------------------------------------

    def forward_stem(self, x: torch.Tensor) -> torch.Tensor:
        """``(B*T, C_in, H, W)`` -> the first stage's input map ``(B*T, C, H/4, W/4)`` (after the input
        checks)."""
        self.check_input(x)
        return self.pos_drop(self.patch_embed(x))

    def forward_stages(
        self, x: torch.Tensor, num_frames: int = 1, pyramid_norms: bool = False, stop_at: int = -1
    ) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        """Single-stream families: the stem, then each stage on the previous stage's NCHW map. Returns the
        last stage's map (the head's input) and every stage's map ``(B*T, C_i, ceil(H/4/2^i),
        ceil(W/4/2^i))``; with ``pyramid_norms`` the detection norms sit in the path."""
        x = self.forward_stem(x)
        pyramid: List[torch.Tensor] = []
        for i, (stage, det_norm) in enumerate(zip(self.stages, self.det_norms)):
            if stop_at < 0 or i <= stop_at:
                x = stage(x, num_frames)
                if pyramid_norms:
                    x = det_norm(x)
                pyramid.append(x)
        return x, pyramid

    @torch.jit.ignore
    def checkpoint_filter(self, state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The family's checkpoint filter (official format, window/size adaptation). Default: none."""
        return state_dict

    @torch.jit.ignore
    def encoder_blocks(self) -> list[tuple[str, nn.Module]]:
        """``(qualified name, block)`` of every encoder block, in order (the video wrapper wraps them)."""
        return [
            (f"stages.{i}.blocks.{j}", b) for i, s in enumerate(self.stages) for j, b in enumerate(s.blocks)
        ]

    # -- forward -------------------------------------------------------------------------------------

    def check_input(self, x: torch.Tensor) -> None:
        if torch.jit.is_scripting():
            check_image_input(x, self.in_chans, self.min_input_size)
        else:
            check_image_input(x, self.in_chans, self.min_input_size, self._param_dtype())

    @torch.jit.unused
    def _param_dtype(self) -> torch.dtype | None:
        p = next(self.parameters(), None)
        return None if p is None or p.device.type == "meta" else p.dtype

    def forward_norm(self, x: torch.Tensor) -> torch.Tensor:
        """The final norm on an NCHW map (the norm is channel-last)."""
        return self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)

    def forward_features(self, x: torch.Tensor, num_frames: int = 1) -> torch.Tensor:
        """``(B*T, C_in, H, W)`` -> normalised features ``(B*T, num_features, h, w)`` for the head."""
        head_map, _ = self.forward_stages(x, num_frames, False, -1)
        return self.forward_norm(head_map)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """``(B, num_features, h, w)`` -> logits ``(B, num_classes)`` (or pooled features with
        ``pre_logits``; the unpooled map when built with ``global_pool=''``)."""
        if capturing_graph() and self.global_pool.pool_type == "avg":
            # the same average; adaptive_avg_pool2d makes torch.export specialise on "map larger than 1x1"
            x = x.mean(dim=(2, 3))
        else:
            x = self.global_pool(x)
        x = self.head_drop(x)
        return x if pre_logits else self.head(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    @torch.jit.ignore
    def forward_pyramid(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Detection-ready NCHW maps, one per stage, at ``pyramid_strides`` with ``pyramid_channels``
        (through the detection norms when built with ``out_norms=True``)."""
        return self.forward_stages(x, 1, self.out_norms, -1)[1]

    @torch.jit.ignore
    def forward_intermediates(
        self,
        x: torch.Tensor,
        indices: Union[int, Sequence[int]] | None = None,
        norm: bool = False,
        stop_early: bool = False,
        output_fmt: str = "NCHW",
        intermediates_only: bool = False,
    ):
        """timm's intermediate-feature API: the pyramid maps of the stages in ``indices`` (an int n = the
        last n stages; negative indices count from the end), and the normalised final features."""
        if output_fmt != "NCHW":
            raise ValueError(f"lgvit intermediates are NCHW, got output_fmt={output_fmt!r}")
        take, max_index = self._take_indices(indices)
        stop = max_index if (stop_early or intermediates_only) else -1
        head_map, pyramid = self.forward_stages(x, 1, self.out_norms, stop)
        intermediates = [pyramid[i] for i in take]
        if intermediates_only:
            return intermediates
        return self.forward_norm(head_map), intermediates

    def _take_indices(self, indices: Union[int, Sequence[int]] | None) -> Tuple[List[int], int]:
        n = len(self.stages)
        bad = (
            (isinstance(indices, int) and not 0 < indices <= n)
            or (
                indices is not None and not isinstance(indices, int) and not all(-n <= i < n for i in indices)
            )
            or (indices is not None and not isinstance(indices, int) and len(indices) == 0)
        )
        if bad:
            raise ValueError(
                f"feature indices {indices!r} are out of range for {n} stages: pass stage indices in "
                f"[{-n}, {n - 1}], or an int 1..{n} for the last n stages"
            )
        return feature_take_indices(n, indices)

    # -- timm model API ------------------------------------------------------------------------------

    @torch.jit.ignore
    def prune_intermediate_layers(
        self, indices: Union[int, Sequence[int]] = 1, prune_norm: bool = False, prune_head: bool = True
    ) -> list[int]:
        """Removes the stages after the last of ``indices`` (and with ``prune_head`` the classifier, with
        ``prune_norm`` the final norm). The declared pyramid shrinks with them, and ``forward_features``
        then ends at the last kept stage's pyramid map (normalised, unless ``prune_norm``)."""
        take, max_index = self._take_indices(indices)
        last = len(self.stages) - 1
        if max_index < last:
            del self.stages[max_index + 1 :]
            del self.det_norms[max_index + 1 :]
            self.pyramid_channels = self.pyramid_channels[: max_index + 1]
            self.pyramid_strides = self.pyramid_strides[: max_index + 1]
            self.feature_info = self.feature_info[: max_index + 1]
            self._head_map_after_prune(max_index)
            self.num_features = self.pyramid_channels[-1]
            if not prune_norm:  # the final norm of the removed last stage cannot apply: a fresh one
                ref = next(self.norm.parameters(), None)
                kw = dict(device=ref.device, dtype=ref.dtype) if ref is not None else {}
                self.norm = self._norm_layer(self.num_features).to(**kw).train(self.training)
            self.head_hidden_size = self.num_features * self.global_pool.feat_mult()
        if prune_norm:
            self.norm = nn.Identity()
        if prune_head:
            self.reset_classifier(0, "")
        elif max_index < last:
            self.reset_classifier(self.num_classes)
        return take

    def _head_map_after_prune(self, max_index: int) -> None:
        """Hook: make ``forward_stages``' head map the kept last stage's pyramid map (default: it is)."""

    @torch.jit.ignore
    def get_classifier(self) -> nn.Module:
        return self.head

    def reset_classifier(self, num_classes: int, global_pool: str | None = None) -> None:
        """New classifier for ``num_classes`` (0: none) and optionally another pooling; keeps the model's
        device, dtype and train/eval mode."""
        if num_classes < 0:
            raise ValueError(f"num_classes must be >= 0, got {num_classes}")
        self.num_classes = num_classes
        if global_pool is not None:
            self.global_pool = self._make_pool(global_pool)
            self.head_hidden_size = self.num_features * self.global_pool.feat_mult()
        ref = next(self.parameters(), None)
        kw = dict(device=ref.device, dtype=ref.dtype) if ref is not None else {}
        self.head = nn.Linear(self.head_hidden_size, num_classes, **kw) if num_classes > 0 else nn.Identity()
        self.head.train(self.training)

    @torch.jit.ignore
    def set_grad_checkpointing(self, enable: bool = True) -> None:
        self.grad_checkpointing = enable
        for s in self.stages:
            s.grad_checkpointing = enable

    @torch.jit.ignore
    def no_weight_decay(self) -> set[str]:
        return set()


def pretrained_cfg(
    first_conv: str | tuple[str, ...], pool_size: tuple[int, int], **overrides: Any
) -> dict[str, Any]:
    """timm's pretrained config for an lgvit variant: ImageNet-1K at 224, bicubic, no weights to fetch.

    ``first_conv`` names the conv(s) that see the image (timm adapts them to another ``in_chans``);
    ``pool_size`` is the final feature map at 224. Anything else a family differs in goes in ``overrides``.
    """
    cfg = {
        "url": "",
        "num_classes": 1000,
        "input_size": (3, 224, 224),
        "pool_size": pool_size,
        "crop_pct": 0.9,
        "interpolation": "bicubic",
        "fixed_input_size": False,
        "mean": IMAGENET_DEFAULT_MEAN,
        "std": IMAGENET_DEFAULT_STD,
        "first_conv": first_conv,
        "classifier": "head",
        "license": "apache-2.0",
    }
    cfg.update(overrides)
    return cfg


def build_lgvit_model(
    model_cls: type,
    variant: str,
    variant_kwargs: dict[str, Any],
    pretrained: bool = False,
    **kwargs: Any,
) -> LGViTModel:
    """The shared builder behind every ``@register_model`` factory (timm's ``build_model_with_cfg`` with
    the family's checkpoint filter). Takes timm's ``device`` / ``dtype`` (the model is built on that
    device), ``pretrained`` from local files only (``pretrained_cfg_overlay=dict(file=...)`` or timm's
    ``local-dir:`` model directories; nothing is downloaded: ``lgvit._registry``), and
    ``features_only`` (feature_cls 'getter', the only one the two-stream families can serve)."""
    if pretrained:  # local files only, through lgvit's one reader (lgvit/_registry.py)
        kwargs = pretrained_state_dict_overlay(kwargs)
    feature_cls = kwargs.pop("feature_cls", "getter")
    if kwargs.get("features_only") and feature_cls != "getter":
        raise ValueError(
            f"feature_cls={feature_cls!r} is not supported by lgvit models: their pyramid maps are not "
            "module outputs; use the default feature_cls='getter' (forward_intermediates)"
        )
    device = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    out_indices = kwargs.pop("out_indices", (0, 1, 2, 3))
    with torch.device(device) if device is not None else nullcontext():
        model = build_model_with_cfg(
            model_cls,
            variant,
            pretrained,
            pretrained_filter_fn=_filter_for_timm,
            feature_cfg=dict(feature_cls="getter", out_indices=out_indices),
            **{**variant_kwargs, **kwargs},
        )
    if dtype is not None:
        model.to(dtype=dtype)
    return drop_pretrained_state_dict(model)


def _filter_for_timm(state_dict: dict[str, torch.Tensor], model: nn.Module) -> dict[str, torch.Tensor]:
    """timm's ``pretrained_filter_fn``: unwrap, then the family's filter, with mismatches named here
    (timm would raise deep inside ``load_state_dict``); the classifier may differ (timm drops it)."""
    from ..checkpoint import adapt_state_dict, check_state_dict, classifier_prefix, unwrap_state_dict

    sd = adapt_state_dict(unwrap_state_dict(state_dict), model)
    # the classifier may differ (timm drops it), and the input convs may have another in_chans (timm
    # adapts them after this filter): only their other dimensions must match here
    first_convs = (getattr(model, "pretrained_cfg", None) or {}).get("first_conv") or ()
    first_convs = (first_convs,) if isinstance(first_convs, str) else tuple(first_convs)
    own = model.state_dict()
    head = f"{classifier_prefix(model) or 'head'}."

    def in_chans_only(k: str, v: torch.Tensor) -> bool:
        if not k.endswith(".weight") or k[: -len(".weight")] not in first_convs or k not in own:
            return False
        o = own[k]
        return v.ndim == o.ndim and v.shape[0] == o.shape[0] and v.shape[2:] == o.shape[2:]

    check = {k: v for k, v in sd.items() if not k.startswith(head) and not in_chans_only(k, v)}
    check_state_dict(model, check, strict=False)
    return sd
