"""RegionViT: regional-to-local attention (Chen et al., ICLR 2022; ``shared/papers/regionvit.txt``).

Layout: helpers -> R2L block -> stage -> model -> checkpoint filter -> variants -> factories. The
official checkpoint format lives in :mod:`lgvit.models.regionvit_official`.

Two token streams run through every stage: *regional* tokens (one per ``4M x 4M`` image patch) and
*local* tokens (one per ``4 x 4`` patch). Each R2L block does regional self-attention (RSA) over all
regional tokens of an image, then local self-attention (LSA) over each region's ``[regional token,
M*M local tokens]`` with a relative position bias between local tokens, then an FFN. RSA and LSA
share the attention weights, not the LayerNorms. All regions of all images go through one fused
``scaled_dot_product_attention`` call.
"""

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from functools import partial
from typing import Any, Callable, List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from timm.layers import DropPath, Mlp, register_notrace_module, trunc_normal_
from timm.models import generate_default_cfgs, register_model

from .._registry import register
from ..layers import (
    Attention,
    ConvStem,
    RegionEmbed,
    TokenDownsample,
    capturing_graph,
    mask_bias,
    region_padding_allowed,
    region_partition,
    region_unpartition,
    region_window,
    relative_position_index,
    reshape,
    resize_rel_pos_table,
)
from .base import (
    LGViTModel,
    LGViTStage,
    build_lgvit_model,
    build_stages,
    check_architecture,
    pretrained_cfg,
)
from .regionvit_official import convert_official_state_dict, is_official_state_dict, official_window

__all__ = ["REGIONVIT_CFGS", "R2LBlock", "RegionViT", "RegionViTCfg", "RegionViTStage", "adapt_window"]

LOCAL_PATCH = 4  # local tokens always cover 4x4 pixels (Table 2)
LayerNormEps6 = partial(nn.LayerNorm, eps=1e-6)  # the token LayerNorm of the official code


def _padding_bias(
    regional_hw: Tuple[int, int],
    local_hw: Tuple[int, int],
    window: Tuple[int, int],
    strict: bool,
    device: torch.device,
    dtype: torch.dtype,
) -> torch.Tensor:
    """The additive padding mask ``(nW, 1, N, N)`` of a stage's local attention (all zero where nothing is
    padded), computed from the sizes alone."""
    allowed = region_padding_allowed(regional_hw, local_hw, window, strict, device)
    return mask_bias(allowed, dtype).unsqueeze(1)


# kept out of torch.compile graphs: Inductor's CPU code generator fails on the fused bool-mask arithmetic
# ("VecMask<int> vs VecMask<float>", torch 2.14), and there is nothing to gain from compiling it
_padding_bias_eager = torch.compiler.disable(_padding_bias)


# ----------------------------------------------------------------------------------------------- block


class R2LBlock(nn.Module):
    """Regional-to-local transformer encoder (RegionViT Eq. 2, Fig. 3).

    Follows the lgvit encoder-block convention (:mod:`lgvit.models.base`): ``forward(x, num_frames, hw,
    bias)`` with ``x`` ``(B*T, nW * (1 + h*w), C)``, each frame's tokens in the R2L layout of
    :func:`lgvit.layers.region_partition` (per region: its regional token, then its local tokens
    row-major), which is the same in every frame; ``hw`` = ``(h, w)`` the region size.
    """

    supports_joint_space_time = True  # both attention calls take lgvit.layers.Attention's token groups

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

    def local_bias(self, grid: Tuple[int, int] | None = None) -> torch.Tensor:
        """``(heads, 1 + h*w, 1 + h*w)`` relative position bias for a ``grid`` = ``(h, w)`` region
        (default: the full window), zero on the regional token's row and column."""
        if grid is None or (grid[0] == self.window and grid[1] == self.window):
            index = self.rel_pos_index
        else:
            index = relative_position_index(self.window, grid).to(self.rel_pos.device)
        n = index.shape[0]
        rel = self.rel_pos[:, index.reshape(-1)].reshape(self.num_heads, n, n)
        return F.pad(rel, (1, 0, 1, 0))

    def forward(
        self, x: torch.Tensor, num_frames: int, hw: Tuple[int, int], bias: torch.Tensor | None = None
    ) -> torch.Tensor:
        """x ``(B*T, nW * N, C)``; ``hw`` = ``(h, w)`` the region size (``N = 1 + h*w``); ``bias``:
        optional ``(nW, 1, N, N)`` additive padding mask shared by all frames. Returns the same shape."""
        B, L, C = x.shape
        N = 1 + hw[0] * hw[1]
        num_regions = L // N
        pad_bias = bias
        x = x.reshape(B * num_regions, N, C)  # B*T*nW, N, C (a view)
        regional = x[:, 0]  # B*T*nW, C
        rsa = self.attn(self.norm0(reshape(regional, [B, num_regions, C])), None, num_frames, 1)
        regional_new = regional + self.drop_path(rsa.flatten(0, 1))

        # LSA input = x with the regional tokens updated. Writing the new rows into fresh tensors
        # (the normalised input, then the residual sum) avoids concatenating a full copy of x.
        y = self.norm1(x)
        # a captured graph writes no rows in place: a slice write asks whether the slice overlaps itself,
        # a guard on ``B*T*nW >= 2`` (batch 1 at a 1x1 grid); the same values by concatenation
        capture = capturing_graph()
        if capture:
            y = torch.cat((self.norm1(regional_new).unsqueeze(1), y[:, 1:]), dim=1)
        else:
            y[:, 0] = self.norm1(regional_new)
        # SDPA takes its fused CPU/GPU kernels only for 4-D masks: keep the bias 4-D
        bias = self.local_bias(hw).to(x.dtype).unsqueeze(0)  # 1, heads, N, N
        if pad_bias is not None:
            bias = (bias + pad_bias.to(x.dtype)).repeat(B, 1, 1, 1)  # B*T*nW, heads, N, N
        y = self.attn(y, bias, num_frames, num_regions)
        x = x + self.drop_path(y)
        if capture:
            x = torch.cat((x[:, :1] + (regional_new - regional).unsqueeze(1), x[:, 1:]), dim=1)
        else:
            x[:, 0] += regional_new - regional
        x = x + self.drop_path(self.mlp(self.norm2(x)))
        return x.reshape(B, L, C)


# ----------------------------------------------------------------------------------------------- stage


@register_notrace_module  # input-size dependent padding: FX keeps the stage as one call
class RegionViTStage(LGViTStage):
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
        if not downsample and in_dim != dim:
            raise ValueError(f"a stage without downsampling keeps its width, got {in_dim} -> {dim}")
        self.downsample = TokenDownsample(in_dim, dim) if downsample else nn.Identity()
        self.blocks = nn.ModuleList(
            R2LBlock(dim, num_heads, window, drop_path=drop_path[i] if drop_path else 0.0, **block_kwargs)
            for i in range(depth)
        )
        # PEG (Chu et al.): depthwise 3x3 conv added after the first block, on both token maps
        self.peg = (
            nn.Conv2d(dim, dim, kernel_size=3, padding=1, groups=dim, bias=False) if peg else nn.Identity()
        )
        self.has_peg = peg

    def forward(
        self, regional: torch.Tensor, local: torch.Tensor, num_frames: int = 1
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """regional ``(B*T, C_in, Hr, Wr)``, local ``(B*T, C_in, H, W)`` -> the same at this stage's
        width (and half the resolution when downsampling)."""
        regional, local = self.downsample(regional), self.downsample(local)
        B, C = regional.shape[0], regional.shape[1]
        regional_hw = (regional.shape[2], regional.shape[3])
        local_hw = (local.shape[2], local.shape[3])
        num_regions = regional_hw[0] * regional_hw[1]
        # strict masking makes padded tokens invisible, so a lone region can shrink to the map
        window = region_window(regional_hw, local_hw, self.window, self.strict_padding_mask)
        N = 1 + window[0] * window[1]
        x, _ = region_partition(regional, local, window)  # B*nW, N, C
        pad_bias: torch.Tensor | None = None
        # the mask depends on the sizes only; an eager call skips it where nothing is padded, a captured
        # graph (export, tracing) always builds it (all zero then), so that it serves every size
        if (
            capturing_graph()
            or regional_hw[0] * window[0] != local_hw[0]
            or regional_hw[1] * window[1] != local_hw[1]
        ):
            strict = self.strict_padding_mask
            if torch.jit.is_scripting():
                pad_bias = _padding_bias(regional_hw, local_hw, window, strict, x.device, x.dtype)
            else:
                pad_bias = _padding_bias_eager(regional_hw, local_hw, window, strict, x.device, x.dtype)
        x = x.reshape(B, num_regions * N, C)  # B*T, nW*N, C: the frame-stable block layout
        if self.has_peg:
            x = self.forward_blocks(x, num_frames, window, pad_bias, 0, 1)
            regional, local = region_unpartition(
                x.reshape(B * num_regions, N, C), B, regional_hw, local_hw, window
            )
            regional, local = regional + self.peg(regional), local + self.peg(local)
            x, _ = region_partition(regional, local, window)
            x = self.forward_blocks(x.reshape(B, num_regions * N, C), num_frames, window, pad_bias, 1)
        else:
            x = self.forward_blocks(x, num_frames, window, pad_bias)
        return region_unpartition(x.reshape(B * num_regions, N, C), B, regional_hw, local_hw, window)


# ----------------------------------------------------------------------------------------------- model


@dataclass(frozen=True)
class RegionViTCfg:
    """One RegionViT variant (RegionViT Table 2). ``dims``/``depths``/``heads`` per stage."""

    dims: Tuple[int, ...] = (96, 192, 384, 768)
    depths: Tuple[int, ...] = (2, 2, 8, 2)
    heads: Tuple[int, ...] = (3, 6, 12, 24)
    window: int = 7
    stem_convs: int = 3
    peg: bool = False
    mlp_ratio: float = 4.0


class RegionViT(LGViTModel):
    """RegionViT backbone + classifier.

    Any input size works: regional tokens pad the image to a multiple of ``4 * window`` and the local
    map is padded to whole regions inside each stage (padded tokens are masked out of attention, as in
    the official code) and cropped back. The classifier pools the last stage's regional tokens; the
    pyramid (``forward_pyramid``, timm features) is the local tokens of each stage.

    Args:
        dims, depths, heads, window, stem_convs, peg, mlp_ratio: the architecture (see RegionViTCfg).
        in_chans: input channels.
        num_classes: classifier outputs (0 for none).
        global_pool: timm's adaptive pooling ('avg', 'max', 'avgmax', 'catavgmax', or '' for none).
        drop_rate, attn_drop_rate, drop_path_rate: dropout, attention dropout, stochastic depth (linear).
        out_norms: add the detection LayerNorms (official ``det_norm``) used by :meth:`forward_pyramid`.
        strict_padding_mask: mask every padded local token out of attention (the paper's semantics)
            and shrink a lone region to the local map it covers. Default False reproduces the official
            code, whose padding mask leaves some padded tokens visible in the bottom-right region
            (see :func:`lgvit.layers.region_padding_mask`) -- needed to match official checkpoints.
            Same parameters either way, so checkpoints load into both. At 224x224 the window-14
            models pad their last stage from 7x7 to 14x14 in official mode: fvcore counts 7.9 GFLOPs
            for S+ where Table 3 gives 5.7, which is what the strict mode computes.
        device, dtype: where and in which precision to build the parameters (timm's factory arguments).
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
        device: torch.device | None = None,
        dtype: torch.dtype | None = None,
    ):
        super().__init__()
        check_architecture(dims, depths, heads, in_chans, num_classes, drop_path_rate, window)
        self.window = window
        self.dims = tuple(dims)
        self.head_on_local = False  # True once pruning removed the last stages (see _head_map_after_prune)

        self.patch_embed = ConvStem(in_chans, dims[0], num_convs=stem_convs, act_layer=act_layer)
        self.region_embed = RegionEmbed(in_chans, dims[0], patch_size=LOCAL_PATCH * window)
        self.pos_drop = nn.Dropout(drop_rate)

        block_args = dict(mlp_ratio=mlp_ratio, qkv_bias=qkv_bias, drop=drop_rate, attn_drop=attn_drop_rate)
        self.stages = build_stages(
            lambda i, in_dim, dim, depth, num_heads, drop_path: RegionViTStage(
                in_dim,
                dim,
                depth,
                num_heads,
                window,
                downsample=i > 0,
                peg=peg,
                strict_padding_mask=strict_padding_mask,
                drop_path=drop_path,
                act_layer=act_layer,
                norm_layer=norm_layer,
                **block_args,
            ),
            dims,
            depths,
            heads,
            drop_path_rate,
        )
        strides = [LOCAL_PATCH * 2**i for i in range(len(dims))]
        self.init_contract(
            dims, strides, in_chans, num_classes, global_pool, drop_rate, norm_layer, out_norms
        )
        self.init_weights_and_place(device, dtype)

    # -- contract ------------------------------------------------------------------------------------

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
    def checkpoint_filter(self, state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Official IBM checkpoints are converted; the window-dependent tensors are resized to this
        model's window (paper A.1: bicubic resize of the rel-pos tables and the regional tokenizer)."""
        if is_official_state_dict(state_dict):
            state_dict = convert_official_state_dict(state_dict, official_window(state_dict))
        return adapt_window(state_dict, self.window)

    def _head_map_after_prune(self, max_index: int) -> None:
        # the pruned model's features end at the kept stage's pyramid map: its local tokens
        self.head_on_local = True

    def forward_stages(
        self, x: torch.Tensor, num_frames: int = 1, pyramid_norms: bool = False, stop_at: int = -1
    ) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        """``(B*T, C_in, H, W)`` -> the last regional map ``(B*T, C, Hr, Wr)`` (the head's input) and
        each stage's local map ``(B*T, C_i, ceil(H/4/2^i), ceil(W/4/2^i))``. With ``pyramid_norms`` the
        detection LayerNorms sit in the path."""
        self.check_input(x)
        regional = self.region_embed(x)
        local = self.pos_drop(self.patch_embed(x))
        pyramid: List[torch.Tensor] = []
        for i, (stage, det_norm) in enumerate(zip(self.stages, self.det_norms)):
            if stop_at < 0 or i <= stop_at:
                regional, local = stage(regional, local, num_frames)
                if pyramid_norms:
                    local = det_norm(local)
                pyramid.append(local)
        if self.head_on_local:
            return local, pyramid
        return regional, pyramid


# -------------------------------------------------------------------------------------- checkpoints


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


# ------------------------------------------------------------------------------------------ factories


def _cfg(stem_convs: int) -> dict[str, Any]:
    # both tokenizers see the image: timm adapts both to another in_chans; the pooled map is the
    # regional tokens' (224 / 28 / 8 with window 7, 224 / 56 / 4 with window 14)
    stem = "patch_embed.proj.0" if stem_convs == 3 else "patch_embed.proj"
    return pretrained_cfg((stem, "region_embed.proj"), (1, 1), crop_pct=0.875)


default_cfgs = generate_default_cfgs(
    {f"{name}.untrained": _cfg(cfg.stem_convs) for name, cfg in REGIONVIT_CFGS.items()}
)


def _create(variant: str, pretrained: bool = False, **kwargs: Any) -> RegionViT:
    return build_lgvit_model(RegionViT, variant, asdict(REGIONVIT_CFGS[variant]), pretrained, **kwargs)


@register
@register_model
def regionvit_ti(pretrained: bool = False, **kwargs: Any) -> RegionViT:
    """RegionViT-Ti (Table 2)."""
    return _create("regionvit_ti", pretrained, **kwargs)


@register
@register_model
def regionvit_s(pretrained: bool = False, **kwargs: Any) -> RegionViT:
    """RegionViT-S (Table 2)."""
    return _create("regionvit_s", pretrained, **kwargs)


@register
@register_model
def regionvit_m(pretrained: bool = False, **kwargs: Any) -> RegionViT:
    """RegionViT-M (Table 2)."""
    return _create("regionvit_m", pretrained, **kwargs)


@register
@register_model
def regionvit_b(pretrained: bool = False, **kwargs: Any) -> RegionViT:
    """RegionViT-B (Table 2)."""
    return _create("regionvit_b", pretrained, **kwargs)


@register
@register_model
def regionvit_ti_w14(pretrained: bool = False, **kwargs: Any) -> RegionViT:
    """RegionViT-Ti+ (window 14, Table 3)."""
    return _create("regionvit_ti_w14", pretrained, **kwargs)


@register
@register_model
def regionvit_s_w14(pretrained: bool = False, **kwargs: Any) -> RegionViT:
    """RegionViT-S+ (window 14, Table 3)."""
    return _create("regionvit_s_w14", pretrained, **kwargs)


@register
@register_model
def regionvit_m_w14(pretrained: bool = False, **kwargs: Any) -> RegionViT:
    """RegionViT-M+ (window 14, Table 3)."""
    return _create("regionvit_m_w14", pretrained, **kwargs)


@register
@register_model
def regionvit_b_w14(pretrained: bool = False, **kwargs: Any) -> RegionViT:
    """RegionViT-B+ (window 14, Table 3)."""
    return _create("regionvit_b_w14", pretrained, **kwargs)


@register
@register_model
def regionvit_s_w14_peg(pretrained: bool = False, **kwargs: Any) -> RegionViT:
    """RegionViT-S+ with PEG (window 14; the detection backbone of Tables 5, 6, A4)."""
    return _create("regionvit_s_w14_peg", pretrained, **kwargs)


@register
@register_model
def regionvit_b_w14_peg(pretrained: bool = False, **kwargs: Any) -> RegionViT:
    """RegionViT-B+ with PEG (window 14; the detection backbone of Tables 5, 6)."""
    return _create("regionvit_b_w14_peg", pretrained, **kwargs)
