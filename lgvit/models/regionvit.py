"""RegionViT: regional-to-local attention (Chen et al., ICLR 2022; ``shared/papers/regionvit.txt``).

Layout: helpers -> R2L block -> stage -> model -> official-checkpoint conversion -> variants -> factories.

Two token streams run through every stage: *regional* tokens (one per ``4M x 4M`` image patch) and
*local* tokens (one per ``4 x 4`` patch). Each R2L block does regional self-attention (RSA) over all
regional tokens of an image, then local self-attention (LSA) over each region's ``[regional token,
M*M local tokens]`` with a relative position bias between local tokens, then an FFN. RSA and LSA
share the attention weights, not the LayerNorms. All regions of all images go through one fused
``scaled_dot_product_attention`` call.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from functools import partial
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F
from timm.layers import DropPath, Mlp, trunc_normal_
from timm.models import build_model_with_cfg, generate_default_cfgs, register_model
from torch.utils.checkpoint import checkpoint

from .._registry import register
from ..layers import (
    Attention,
    ConvStem,
    LayerNorm2d,
    RegionEmbed,
    TokenDownsample,
    official_to_canonical_table,
    region_padding_mask,
    region_partition,
    region_unpartition,
    region_window,
    relative_position_index,
    resize_rel_pos_table,
)

__all__ = [
    "RegionViT",
    "RegionViTCfg",
    "REGIONVIT_CFGS",
    "regionvit_from_official",
    "convert_official_state_dict",
]

LOCAL_PATCH = 4  # local tokens always cover 4x4 pixels (Table 2)
LayerNormEps6 = partial(nn.LayerNorm, eps=1e-6)  # the token LayerNorm of the official code


def _mask_to_bias(mask: torch.Tensor | None, dtype: torch.dtype) -> torch.Tensor | None:
    """Bool mask (True = attend) -> additive bias. A finite large negative value keeps fully masked
    (padded) query rows finite: they attend uniformly, as in the official ``masked_fill(finfo.min)``."""
    if mask is None:
        return None
    neg = torch.finfo(dtype).min / 2  # /2: adding a score to it must not overflow to -inf
    return torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill_(~mask, neg)


# ----------------------------------------------------------------------------------------------- block


class R2LBlock(nn.Module):
    """Regional-to-local transformer encoder (RegionViT Eq. 2, Fig. 3).

    Operates on the flattened R2L layout ``(B * nW, 1 + M*M, C)`` produced by
    :func:`lgvit.layers.region_partition` (regional token first in each region).
    """

    def __init__(
        self,
        dim: int,
        num_heads: int,
        window: int,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        drop: float = 0.0,
        attn_drop: float = 0.0,
        drop_path: float = 0.0,
        act_layer: type[nn.Module] = nn.GELU,
        norm_layer: Callable[[int], nn.Module] = LayerNormEps6,
    ):
        super().__init__()
        self.window = window
        self.num_heads = num_heads
        self.norm0 = norm_layer(dim)  # RSA pre-norm
        self.norm1 = norm_layer(dim)  # LSA pre-norm
        self.attn = Attention(dim, num_heads, qkv_bias=qkv_bias, attn_drop=attn_drop, proj_drop=drop)
        # canonical (Swin) layout; official checkpoints are permuted on load
        self.rel_pos = nn.Parameter(torch.zeros(num_heads, (2 * window - 1) ** 2))
        self.register_buffer("rel_pos_index", relative_position_index(window), persistent=False)
        self.drop_path = DropPath(drop_path) if drop_path > 0.0 else nn.Identity()
        self.norm2 = norm_layer(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), act_layer=act_layer, drop=drop)
        trunc_normal_(self.rel_pos, std=0.02)

    def local_bias(self, grid: tuple[int, int] | None = None) -> torch.Tensor:
        """``(heads, 1 + h*w, 1 + h*w)`` relative position bias for a ``grid`` = ``(h, w)`` region
        (default: the full window), zero on the regional token's row and column."""
        if grid is None or tuple(grid) == (self.window, self.window):
            index = self.rel_pos_index
        else:
            index = relative_position_index(self.window, grid).to(self.rel_pos.device)
        n = index.shape[0]
        rel = self.rel_pos[:, index.reshape(-1)].reshape(self.num_heads, n, n)
        return F.pad(rel, (1, 0, 1, 0))

    def forward(
        self,
        x: torch.Tensor,
        num_regions: int,
        pad_bias: torch.Tensor | None = None,
        region_hw: tuple[int, int] | None = None,
    ) -> torch.Tensor:
        """x: ``(B * nW, 1 + h*w, C)``; ``num_regions`` = nW per image; ``pad_bias``: optional
        ``(nW, 1, 1 + h*w, 1 + h*w)`` additive padding mask shared by all images; ``region_hw``:
        the region's ``(h, w)`` when smaller than the window. Returns the same shape as x."""
        BW, N, C = x.shape
        B = BW // num_regions
        regional = x[:, 0]  # B*nW, C
        regional_new = regional + self.drop_path(
            self.attn(self.norm0(regional.reshape(B, num_regions, C))).flatten(0, 1)
        )

        # LSA input = x with the regional tokens updated. Writing the new rows into fresh tensors
        # (the normalised input, then the residual sum) avoids concatenating a full copy of x.
        y = self.norm1(x)
        y[:, 0] = self.norm1(regional_new)
        # SDPA takes its fused CPU/GPU kernels only for 4-D masks: keep the bias 4-D
        bias = self.local_bias(region_hw).to(x.dtype).unsqueeze(0)  # 1, heads, N, N
        if pad_bias is not None:
            bias = (bias + pad_bias.to(x.dtype)).repeat(B, 1, 1, 1)  # B*nW, heads, N, N
        y = self.attn(y, bias)
        x = x + self.drop_path(y)
        x[:, 0] += regional_new - regional
        x = x + self.drop_path(self.mlp(self.norm2(x)))
        return x


# ----------------------------------------------------------------------------------------------- stage


class RegionViTStage(nn.Module):
    """Optional downsampling, then ``depth`` R2L blocks (with an optional PEG after the first)."""

    def __init__(
        self,
        in_dim: int,
        dim: int,
        depth: int,
        num_heads: int,
        window: int,
        downsample: bool,
        peg: bool = False,
        strict_padding_mask: bool = False,
        drop_path: Sequence[float] = (),
        **block_kwargs: Any,
    ):
        super().__init__()
        self.window = window
        self.strict_padding_mask = strict_padding_mask
        self.downsample = TokenDownsample(in_dim, dim) if downsample else None
        if not downsample and in_dim != dim:
            raise ValueError(f"a stage without downsampling keeps its width, got {in_dim} -> {dim}")
        self.blocks = nn.ModuleList(
            R2LBlock(dim, num_heads, window, drop_path=drop_path[i] if drop_path else 0.0, **block_kwargs)
            for i in range(depth)
        )
        # PEG (Chu et al.): depthwise 3x3 conv added after the first block, on both token maps
        self.peg = nn.Conv2d(dim, dim, kernel_size=3, padding=1, groups=dim, bias=False) if peg else None
        self.grad_checkpointing = False

    def forward(self, regional: torch.Tensor, local: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """regional ``(B, C_in, Hr, Wr)``, local ``(B, C_in, H, W)`` -> the same at this stage's
        width (and half the resolution when downsampling)."""
        if self.downsample is not None:
            regional, local = self.downsample(regional), self.downsample(local)
        B = regional.shape[0]
        regional_hw = tuple(regional.shape[-2:])
        local_hw = tuple(local.shape[-2:])
        num_regions = regional_hw[0] * regional_hw[1]
        # strict masking makes padded tokens invisible, so a lone region can shrink to the map
        window = region_window(regional_hw, local_hw, self.window, clip=self.strict_padding_mask)
        region_hw = None if window == (self.window, self.window) else window
        x, _ = region_partition(regional, local, window)
        mask = region_padding_mask(
            regional_hw, local_hw, window, strict=self.strict_padding_mask, device=x.device
        )
        pad_bias = _mask_to_bias(mask, x.dtype)
        if pad_bias is not None:
            pad_bias = pad_bias.unsqueeze(1)  # nW, 1, N, N
        for i, blk in enumerate(self.blocks):
            if self.grad_checkpointing and torch.is_grad_enabled():
                x = checkpoint(blk, x, num_regions, pad_bias, region_hw, use_reentrant=False)
            else:
                x = blk(x, num_regions, pad_bias, region_hw)
            if i == 0 and self.peg is not None:
                regional, local = region_unpartition(x, B, regional_hw, local_hw, window)
                regional, local = regional + self.peg(regional), local + self.peg(local)
                x, _ = region_partition(regional, local, window)
        return region_unpartition(x, B, regional_hw, local_hw, window)


# ----------------------------------------------------------------------------------------------- model


@dataclass(frozen=True)
class RegionViTCfg:
    """One RegionViT variant (RegionViT Table 2). ``dims``/``depths``/``heads`` per stage."""

    dims: tuple[int, ...] = (96, 192, 384, 768)
    depths: tuple[int, ...] = (2, 2, 8, 2)
    heads: tuple[int, ...] = (3, 6, 12, 24)
    window: int = 7
    stem_convs: int = 3
    peg: bool = False
    mlp_ratio: float = 4.0


class RegionViT(nn.Module):
    """RegionViT backbone + classifier.

    Any input size works: regional tokens pad the image to a multiple of ``4 * window`` and the local
    map is padded to whole regions inside each stage (padded tokens are masked out of attention, as in
    the official code) and cropped back.

    Args:
        dims, depths, heads, window, stem_convs, peg, mlp_ratio: the architecture (see RegionViTCfg).
        in_chans: input channels.
        num_classes: classifier outputs (0 for none).
        global_pool: 'avg' (mean of regional tokens) or '' (no pooling in forward_head).
        drop_rate, attn_drop_rate, drop_path_rate: dropout, attention dropout, stochastic depth (linear).
        out_norms: add the detection LayerNorms (official ``det_norm``) used by :meth:`forward_pyramid`.
        strict_padding_mask: mask every padded local token out of attention (the paper's semantics)
            and shrink a lone region to the local map it covers. Default False reproduces the official
            code, whose padding mask leaves some padded tokens visible in the bottom-right region
            (see :func:`lgvit.layers.region_padding_mask`) -- needed to match official checkpoints.
            Same parameters either way, so checkpoints load into both. At 224x224 the window-14
            models pad their last stage from 7x7 to 14x14 in official mode: fvcore counts 7.9 GFLOPs
            for S+ where Table 3 gives 5.7, which is what the strict mode computes.
    """

    def __init__(
        self,
        dims: Sequence[int] = (96, 192, 384, 768),
        depths: Sequence[int] = (2, 2, 8, 2),
        heads: Sequence[int] = (3, 6, 12, 24),
        window: int = 7,
        stem_convs: int = 3,
        peg: bool = False,
        mlp_ratio: float = 4.0,
        in_chans: int = 3,
        num_classes: int = 1000,
        global_pool: str = "avg",
        qkv_bias: bool = True,
        drop_rate: float = 0.0,
        attn_drop_rate: float = 0.0,
        drop_path_rate: float = 0.0,
        norm_layer: Callable[[int], nn.Module] = LayerNormEps6,
        act_layer: type[nn.Module] = nn.GELU,
        out_norms: bool = False,
        strict_padding_mask: bool = False,
    ):
        super().__init__()
        if not (len(dims) == len(depths) == len(heads)):
            raise ValueError(
                f"dims, depths and heads need one entry per stage, got {dims}, {depths}, {heads}"
            )
        if global_pool not in ("avg", ""):
            raise ValueError(f"global_pool must be 'avg' or '', got {global_pool!r}")
        self.num_classes = num_classes
        self.global_pool = global_pool
        self.in_chans = in_chans
        self.window = window
        self.dims = tuple(dims)
        self.num_features = self.head_hidden_size = dims[-1]
        self.grad_checkpointing = False

        self.patch_embed = ConvStem(in_chans, dims[0], num_convs=stem_convs, act_layer=act_layer)
        self.region_embed = RegionEmbed(in_chans, dims[0], patch_size=LOCAL_PATCH * window)
        self.pos_drop = nn.Dropout(drop_rate)

        # on CPU explicitly: building under `with torch.device("meta")` must still work
        dpr = torch.linspace(0, drop_path_rate, sum(depths), device="cpu").tolist()
        self.stages = nn.ModuleList()
        prev = dims[0]
        for i, (dim, depth, nh) in enumerate(zip(dims, depths, heads)):
            self.stages.append(
                RegionViTStage(
                    prev,
                    dim,
                    depth,
                    nh,
                    window,
                    downsample=i > 0,
                    peg=peg,
                    strict_padding_mask=strict_padding_mask,
                    drop_path=dpr[sum(depths[:i]) : sum(depths[: i + 1])],
                    mlp_ratio=mlp_ratio,
                    qkv_bias=qkv_bias,
                    drop=drop_rate,
                    attn_drop=attn_drop_rate,
                    act_layer=act_layer,
                    norm_layer=norm_layer,
                )
            )
            prev = dim
        self.det_norms = nn.ModuleList(LayerNorm2d(d) for d in dims) if out_norms else None

        self.norm = norm_layer(dims[-1])
        self.head_drop = nn.Dropout(drop_rate)
        self.head = nn.Linear(dims[-1], num_classes) if num_classes > 0 else nn.Identity()

        # the feature contract, known before running (timm feature_info; detectron2/video adapters)
        self.pyramid_channels = tuple(dims)
        self.pyramid_strides = tuple(LOCAL_PATCH * 2**i for i in range(len(dims)))
        self.feature_info = [
            dict(num_chs=c, reduction=s, module=f"stages.{i}")
            for i, (c, s) in enumerate(zip(self.pyramid_channels, self.pyramid_strides))
        ]
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)

    # -- timm model API ---------------------------------------------------------------------------------

    @torch.jit.ignore
    def no_weight_decay(self) -> set[str]:
        """Parameters trained without weight decay besides norms and biases: the rel-pos tables."""
        return {n for n, _ in self.named_parameters() if n.endswith("rel_pos")}

    @torch.jit.ignore
    def group_matcher(self, coarse: bool = False) -> dict[str, Any]:
        return dict(
            stem=r"^patch_embed|^region_embed",
            blocks=r"^stages\.(\d+)"
            if coarse
            else [(r"^stages\.(\d+)\.blocks\.(\d+)", None), (r"^norm", (99999,))],
        )

    @torch.jit.ignore
    def set_grad_checkpointing(self, enable: bool = True) -> None:
        self.grad_checkpointing = enable
        for s in self.stages:
            s.grad_checkpointing = enable

    @torch.jit.ignore
    def get_classifier(self) -> nn.Module:
        return self.head

    def reset_classifier(self, num_classes: int, global_pool: str | None = None) -> None:
        self.num_classes = num_classes
        if global_pool is not None:
            if global_pool not in ("avg", ""):
                raise ValueError(f"global_pool must be 'avg' or '', got {global_pool!r}")
            self.global_pool = global_pool
        self.head = nn.Linear(self.num_features, num_classes) if num_classes > 0 else nn.Identity()

    # -- forward ----------------------------------------------------------------------------------------

    def check_input(self, x: torch.Tensor) -> None:
        """Raises a ValueError that says what is wrong with an input batch."""
        if x.ndim != 4:
            raise ValueError(
                f"expected an image batch of shape (B, {self.in_chans}, H, W), got {tuple(x.shape)}"
            )
        if x.shape[1] != self.in_chans:
            raise ValueError(
                f"expected {self.in_chans} input channels, got {x.shape[1]} (shape {tuple(x.shape)}); "
                f"convert grayscale/RGBA images to RGB or build the model with in_chans={x.shape[1]}"
            )
        if min(x.shape[-2:]) < LOCAL_PATCH:
            raise ValueError(
                f"image {x.shape[-2]}x{x.shape[-1]} is smaller than one "
                f"{LOCAL_PATCH}x{LOCAL_PATCH} local patch; upsample or pad it"
            )

    def _embed(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self.check_input(x)
        return self.region_embed(x), self.pos_drop(self.patch_embed(x))

    def forward_stages(
        self, x: torch.Tensor, norms: bool = False, stop_at: int | None = None
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Runs the stages; returns the last regional map ``(B, C, Hr, Wr)`` and each stage's local map
        ``(B, C_i, H/4/2^i, W/4/2^i)``. With ``norms``, the detection LayerNorms sit in the path."""
        if norms and self.det_norms is None:
            raise ValueError("this model has no detection norms; build it with out_norms=True")
        regional, local = self._embed(x)
        locals_ = []
        for i, stage in enumerate(self.stages):
            regional, local = stage(regional, local)
            if norms:
                local = self.det_norms[i](local)
            locals_.append(local)
            if stop_at is not None and i >= stop_at:
                break
        return regional, locals_

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W)`` -> normalised regional tokens ``(B, C, Hr, Wr)`` of the last stage."""
        regional, _ = self.forward_stages(x)
        return self.norm(regional.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        if self.global_pool == "avg":
            x = x.mean(dim=(-2, -1))
        x = self.head_drop(x)
        return x if pre_logits else self.head(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    def forward_pyramid(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Multi-scale local-token maps at strides 4, 8, 16, 32 (``self.pyramid_channels`` channels).

        With ``out_norms=True`` these come from the official detection path (LayerNorms in the path)."""
        return self.forward_stages(x, norms=self.det_norms is not None)[1]

    def forward_intermediates(
        self,
        x: torch.Tensor,
        indices: int | Sequence[int] | None = None,
        norm: bool = False,
        stop_early: bool = False,
        output_fmt: str = "NCHW",
        intermediates_only: bool = False,
    ):
        """timm's intermediate-feature API (used by ``features_only=True``)."""
        if output_fmt != "NCHW":
            raise ValueError(f"RegionViT intermediates are NCHW, got output_fmt={output_fmt!r}")
        n = len(self.stages)
        if indices is None:
            take = list(range(n))
        elif isinstance(indices, int):
            take = list(range(n - indices, n))
        else:
            take = [i % n for i in indices]
        regional, locals_ = self.forward_stages(
            x,
            norms=self.det_norms is not None,
            stop_at=max(take) if (stop_early or intermediates_only) else None,
        )
        intermediates = [locals_[i] for i in take]
        if intermediates_only:
            return intermediates
        return self.norm(regional.permute(0, 2, 3, 1)).permute(0, 3, 1, 2), intermediates

    def prune_intermediate_layers(
        self, indices: int | Sequence[int] = 1, prune_norm: bool = False, prune_head: bool = True
    ) -> list[int]:
        n = len(self.stages)
        take = list(range(n - indices, n)) if isinstance(indices, int) else [i % n for i in indices]
        del self.stages[max(take) + 1 :]
        if prune_norm:
            self.norm = nn.Identity()
        if prune_head:
            self.reset_classifier(0, "")
        return take


# ------------------------------------------------------------------------------ official checkpoints


def _is_official(state_dict: dict[str, torch.Tensor]) -> bool:
    return any(k.startswith("layers.") for k in state_dict) or "cls_token.proj.weight" in state_dict


def convert_official_state_dict(state_dict: dict[str, torch.Tensor], window: int) -> dict[str, torch.Tensor]:
    """Maps an official IBM RegionViT state dict onto our module names.

    ``layers.i.block.0`` (the downsampling projection) -> ``stages.i.downsample``; ``layers.i.block.j``
    (j >= 1) -> ``stages.i.blocks.{j-1}``; ``cls_token`` -> ``region_embed``; ``norm{i}`` (detection
    norms) -> ``det_norms.i``; ``(1, C, 1, 1)`` LayerNorm2d parameters -> ``(C,)``; the relative
    position tables are permuted from the official layout to ours.
    """
    out: dict[str, torch.Tensor] = {}
    for k, v in state_dict.items():
        if k.endswith("rel_pos_index"):
            continue
        parts = k.split(".")
        if parts[0] == "layers" and parts[2] == "peg":
            k = ".".join(["stages", *parts[1:]])
        elif parts[0] == "layers":
            stage, blk, rest = parts[1], int(parts[3]), parts[4:]
            if blk == 0:  # Projection: proj.{0: LayerNorm2d, 1: GELU, 2: conv}
                if rest[0] == "proj_cls":
                    continue  # alias of proj in the official module
                sub = {"0": "norm", "2": "conv"}[rest[1]]
                k = ".".join(["stages", stage, "downsample", sub, *rest[2:]])
            else:
                k = ".".join(["stages", stage, "blocks", str(blk - 1), *rest])
                if rest == ["attn", "rel_pos"]:
                    k = ".".join(["stages", stage, "blocks", str(blk - 1), "rel_pos"])
                    v = official_to_canonical_table(v, window)
        elif parts[0] == "cls_token":
            k = ".".join(["region_embed", *parts[1:]])
        elif parts[0] in ("norm0", "norm1", "norm2", "norm3"):
            k = ".".join(["det_norms", parts[0][-1], *parts[1:]])
        if v.ndim == 4 and v.shape[0] == 1 and v.shape[2:] == (1, 1):  # LayerNorm2d (1, C, 1, 1)
            v = v.reshape(-1)
        out[k] = v
    return out


def _official_cfg(config: dict[str, Any]) -> dict[str, Any]:
    """Official ``_model_cfg`` entry -> RegionViT kwargs."""
    known = {
        "img_size",
        "patch_conv_type",
        "patch_size",
        "embed_dim",
        "num_heads",
        "mlp_ratio",
        "depth",
        "kernel_sizes",
        "downsampling",
        "peg",
        "det_norm",
        "num_classes",
        "drop_path_rate",
        "in_chans",
        "qkv_bias",
        "computed_cls_token",
    }
    unknown = set(config) - known
    if unknown:
        raise ValueError(f"unknown keys in the official RegionViT config: {sorted(unknown)}")
    if config.get("patch_size", LOCAL_PATCH) != LOCAL_PATCH:
        raise ValueError(f"official RegionViT uses local patch size 4, config has {config['patch_size']}")
    windows = set(config["kernel_sizes"])
    if len(windows) != 1:
        raise ValueError(f"per-stage windows must be equal, got kernel_sizes={config['kernel_sizes']}")
    stem = {"3conv": 3, "1conv": 1}.get(config["patch_conv_type"])
    if stem is None:
        raise ValueError(
            f"unsupported patch_conv_type {config['patch_conv_type']!r} (expected '3conv' or '1conv')"
        )
    embed = list(config["embed_dim"])
    if embed[0] != embed[1] or list(config["downsampling"])[0] != "c":
        raise ValueError("official configs with a width change before stage 1 are not supported")
    mlp = config.get("mlp_ratio", 4.0)
    if isinstance(mlp, (list, tuple)):
        if len(set(mlp)) != 1:
            raise ValueError(f"per-stage mlp ratios are not supported: {mlp}")
        mlp = mlp[0]
    return dict(
        dims=tuple(embed[1:]),
        depths=tuple(config["depth"]),
        heads=tuple(config["num_heads"]),
        window=windows.pop(),
        stem_convs=stem,
        peg=bool(config.get("peg", False)),
        mlp_ratio=float(mlp),
        num_classes=config.get("num_classes", 1000),
        in_chans=config.get("in_chans", 3),
        qkv_bias=config.get("qkv_bias", True),
    )


def check_state_dict(
    model: nn.Module, state_dict: dict[str, torch.Tensor], strict: bool = True
) -> tuple[list, list]:
    """Compares a state dict with a model's; raises a ValueError that names every shape mismatch (and,
    with ``strict``, every missing/unexpected key). Returns ``(missing, unexpected)``."""
    own = model.state_dict()
    mismatched = [
        f"{k}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}"
        for k, v in state_dict.items()
        if k in own and own[k].shape != v.shape
    ]
    missing = sorted(set(own) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(own))

    def listing(what: str, keys: list[str]) -> str:
        return f"{what} ({len(keys)}): " + ", ".join(keys[:20]) + (" ..." if len(keys) > 20 else "")

    lines = ["shape mismatches:\n  " + "\n  ".join(mismatched)] if mismatched else []
    if strict and missing:
        lines.append(listing("missing keys", missing))
    if strict and unexpected:
        lines.append(listing("unexpected keys", unexpected))
    if lines:
        raise ValueError(
            f"checkpoint does not match {type(model).__name__}:\n"
            + "\n".join(lines)
            + "\n(is it for another variant or window size? see lgvit.list_models())"
        )
    return missing, unexpected


def load_checked(
    model: nn.Module, state_dict: dict[str, torch.Tensor], strict: bool = True
) -> tuple[list, list]:
    """``load_state_dict`` that names every missing/unexpected key and shape mismatch in a ValueError."""
    missing, unexpected = check_state_dict(model, state_dict, strict)
    model.load_state_dict(state_dict, strict=False)
    return missing, unexpected


def regionvit_from_official(
    config: dict[str, Any], state_dict: dict[str, torch.Tensor], **kwargs: Any
) -> RegionViT:
    """Builds the RegionViT described by an official ``_model_cfg`` dict and loads an official state dict.

    Detection norms ``norm0..norm3`` in the state dict turn on ``out_norms`` (used by forward_pyramid).
    ``num_classes`` follows the checkpoint's head. Raises ValueError naming missing/unexpected keys.
    """
    cfg = _official_cfg(config)
    if "head.weight" in state_dict:
        cfg["num_classes"] = state_dict["head.weight"].shape[0]
    cfg["out_norms"] = "norm0.weight" in state_dict or bool(config.get("det_norm", False))
    cfg.update(kwargs)
    model = RegionViT(**cfg)
    load_checked(model, convert_official_state_dict(state_dict, cfg["window"]))
    return model


def checkpoint_filter_fn(state_dict: dict[str, torch.Tensor], model: RegionViT) -> dict[str, torch.Tensor]:
    """timm hook: accepts ours or official checkpoints, and adapts the window size (A.1: bicubic resize
    of the relative-position tables and of the regional tokenizer kernel)."""
    state_dict = state_dict.get("model", state_dict.get("state_dict", state_dict))
    if _is_official(state_dict):
        side = int(round(next(v for k, v in state_dict.items() if k.endswith("rel_pos")).shape[1] ** 0.5))
        state_dict = convert_official_state_dict(state_dict, (side + 1) // 2)
    state_dict = adapt_window(state_dict, model.window)
    # timm would raise a RuntimeError deep in load_state_dict: name the mismatch here instead (the
    # classifier may legitimately differ, timm drops it itself when num_classes changes)
    check_state_dict(model, {k: v for k, v in state_dict.items() if not k.startswith("head.")}, strict=False)
    return state_dict


def adapt_window(state_dict: dict[str, torch.Tensor], window: int) -> dict[str, torch.Tensor]:
    """Resizes the rel-pos tables and the regional tokenizer kernel of a checkpoint to ``window``."""
    out = dict(state_dict)
    for k, v in state_dict.items():
        if k.endswith("rel_pos"):
            out[k] = resize_rel_pos_table(v, window)
        elif k == "region_embed.proj.weight" and v.shape[-1] != LOCAL_PATCH * window:
            size = LOCAL_PATCH * window
            out[k] = F.interpolate(v.float(), size=(size, size), mode="bicubic", align_corners=False).to(
                v.dtype
            )
    return out


# ------------------------------------------------------------------------------------------- variants

_S = RegionViTCfg()
REGIONVIT_CFGS: dict[str, RegionViTCfg] = {
    "regionvit_ti": RegionViTCfg(dims=(64, 128, 256, 512), heads=(2, 4, 8, 16)),
    "regionvit_s": _S,
    "regionvit_m": RegionViTCfg(depths=(2, 2, 14, 2), stem_convs=1),
    "regionvit_b": RegionViTCfg(
        dims=(128, 256, 512, 1024), depths=(2, 2, 14, 2), heads=(4, 8, 16, 32), stem_convs=1
    ),
}
for _name in ("regionvit_ti", "regionvit_s", "regionvit_m", "regionvit_b"):
    REGIONVIT_CFGS[f"{_name}_w14"] = replace(REGIONVIT_CFGS[_name], window=14)
for _name in ("regionvit_s", "regionvit_b"):
    REGIONVIT_CFGS[f"{_name}_w14_peg"] = replace(REGIONVIT_CFGS[_name], window=14, peg=True)


# RegionViT Table 3: (params M, GFLOPs at 224) of the variants the paper reports ("+" = window 14).
# Reference numbers for reports (tools/demo.py, tools/analyze_model.py); tests keep their own copy.
PAPER_TABLE3: dict[str, tuple[float, float]] = {
    "regionvit_ti": (13.8, 2.4),
    "regionvit_s": (30.6, 5.3),
    "regionvit_m": (41.2, 7.4),
    "regionvit_b": (72.7, 13.0),
    "regionvit_ti_w14": (14.3, 2.7),
    "regionvit_s_w14": (31.3, 5.7),
    "regionvit_m_w14": (42.0, 7.9),
    "regionvit_b_w14": (73.8, 13.6),
}


def build_regionvit(variant: str, **kwargs: Any) -> RegionViT:
    """Builds a named variant; kwargs override RegionViT arguments (num_classes, drop_path_rate, ...)."""
    if variant not in REGIONVIT_CFGS:
        close = difflib.get_close_matches(variant, REGIONVIT_CFGS, n=3, cutoff=0.5)
        raise ValueError(
            f"unknown RegionViT variant {variant!r}; did you mean {close}? known: {sorted(REGIONVIT_CFGS)}"
        )
    return RegionViT(**{**asdict(REGIONVIT_CFGS[variant]), **kwargs})


# ------------------------------------------------------------------------------------------ factories


def _cfg(**kwargs: Any) -> dict[str, Any]:
    return {
        "url": "",
        "num_classes": 1000,
        "input_size": (3, 224, 224),
        "pool_size": (1, 1),  # regional tokens: 224 / 28 / 8 (window 7) or 224 / 56 / 4 (window 14)
        "crop_pct": 0.875,
        "interpolation": "bicubic",
        "fixed_input_size": False,
        "mean": (0.485, 0.456, 0.406),
        "std": (0.229, 0.224, 0.225),
        "first_conv": "patch_embed.proj.0",
        "classifier": "head",
        "license": "apache-2.0",
        **kwargs,
    }


default_cfgs = generate_default_cfgs(
    {
        f"{name}.untrained": _cfg(
            first_conv="patch_embed.proj.0" if cfg.stem_convs == 3 else "patch_embed.proj"
        )
        for name, cfg in REGIONVIT_CFGS.items()
    }
)


def _create(variant: str, pretrained: bool = False, **kwargs: Any) -> RegionViT:
    if pretrained and not (kwargs.get("pretrained_cfg_overlay") or {}).get("file"):
        raise ValueError(
            "lgvit ships no pretrained weights and downloads nothing; pass "
            "pretrained_cfg_overlay=dict(file='path/to/checkpoint.pth') (ours or official RegionViT), "
            "or use lgvit.regionvit_from_official / tools/convert_official_regionvit.py"
        )
    out_indices = kwargs.pop("out_indices", (0, 1, 2, 3))
    return build_model_with_cfg(
        RegionViT,
        variant,
        pretrained,
        pretrained_filter_fn=checkpoint_filter_fn,
        feature_cfg=dict(feature_cls="getter", out_indices=out_indices),
        **{**asdict(REGIONVIT_CFGS[variant]), **kwargs},
    )


def _factory(variant: str):
    def fn(pretrained: bool = False, **kwargs: Any) -> RegionViT:
        return _create(variant, pretrained, **kwargs)

    fn.__name__ = fn.__qualname__ = variant
    fn.__module__ = __name__
    fn.__doc__ = f"RegionViT variant {variant}: {REGIONVIT_CFGS[variant]}"
    return fn


# one tiny factory per variant, registered with lgvit and timm (timm.create_model(name) works after
# `import lgvit`)
for _variant in REGIONVIT_CFGS:
    globals()[_variant] = register(register_model(_factory(_variant)))
