"""SALG: Semantic-Aware Local-Global vision transformer (Zhang et al.; ``shared/papers/salg.txt``, Sec. III).

Layout: helpers -> local-global block -> patch merging -> stage -> model -> checkpoint filter ->
parameter breakdown -> variants -> factories. The segmentation helpers are pure functions in
:mod:`lgvit.layers.semantic_regions`.

Architecture (Sec. III-A, III-D, IV-A): a 3-conv stem to ``H/4 x W/4`` (strides 2, 2, 1; the shared
:class:`lgvit.layers.ConvStem`), three SALG stages and one normal transformer stage, linear patch merging
(Swin's: 2x2 concat -> LayerNorm -> Linear 4C -> 2C) between stages, head dim 32, MLP ratio 4, relative
position bias. Widths C, 2C, 4C, 8C.

A SALG block (Eq. 1, 2 and 3/4), on a frame-stable layout ``[nR AGR tokens, H*W map tokens]``:

1. *Segmentation* on the block's input map: region means of the uniform ``7 x 7`` windows, then every
   token goes to the covering region (window grown by ``p`` = 1, 2, 1 tokens per side in the three SALG
   stages) of maximal cosine similarity. Done in every block, inside it, so that the layout the block
   receives and returns never moves (the video contract); the paper segments "in each SALG stage" and
   does not say whether later blocks reuse the first block's map -- with temporal attention between the
   blocks of a video model, each block must segment the tokens it actually receives.
2. *Intra-region attention*: per region, ``[its AGR token, its K x K coverage area]`` (``K = 7 + 2p``)
   with every key that is not a member of the region (other regions' tokens, padding, outside the map)
   masked out, and a ``(2K-1)^2`` relative position bias per head over the coverage grid (zero on the
   AGR token's row and column). Computed as what it is: each region's attention among its AGR token
   and its members, every region of every image in one attention call
   (:func:`lgvit.layers.member_layout`).
3. *Write-back*: coverage areas overlap, so a token lies in up to four areas; its new value is the one
   computed in **its own region's** area (the only area where it is a member), the AGR token's its
   region's. Then the residual, and the MLP on every token (Eq. 2's MLP is per-token, so it runs on the
   map, AGR included).
4. *Inter-region propagation* among the AGR tokens of one image: ``"msa"`` (Eq. 3: pre-norm MSA + MLP,
   residual) or ``"ap"`` (Eq. 4: every AGR token is replaced by their average).

The normal (fourth) stage uses the same block with no segmentation, no AGR tokens and ``p = 0``: plain
``7 x 7`` window attention with padding masked, which *is* global attention at 224x224 (a 7x7 map),
and stays linear in the image size for detection inputs.

AGR token initialisation (the paper does not say; the number of regions depends on the input size):
``agr_r = t_stage + m_r``, one learned token per stage (``agr_token``) shared by all regions, plus the
mean ``m_r`` of region ``r``'s window at the stage input. A shared token has no size-dependent
parameters (any input size and any checkpoint work, as with MSG-Transformer's messenger tokens); the
window mean makes each AGR token start as a summary of its region (as RegionViT's regional tokens
summarise their patch), so the first intra-region attention's AGR rows differ per region.

Any input size: each block zero-pads its map at the bottom/right to whole windows, masks the padding
out of every attention and every region mean, and crops it away; patch merging pads odd maps by one.
"""

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Callable, Dict, Final, List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from timm.layers import DropPath, Mlp, register_notrace_module, trunc_normal_
from timm.models import generate_default_cfgs, register_model

from .._registry import register
from ..layers import (
    Attention,
    ConvStem,
    PatchMerging,
    assign_regions,
    mask_value,
    member_attention,
    pad_to_windows,
    region_means,
    relative_position_index,
    reshape,
    resize_rel_pos_table,
    valid_mask,
    window_grid,
    window_regions,
)
from .base import (
    LGViTModel,
    LGViTStage,
    build_lgvit_model,
    build_stages,
    check_architecture,
    pretrained_cfg,
)

__all__ = ["SALG", "SALG_CFGS", "LocalGlobalBlock", "SALGCfg", "SALGStage", "param_breakdown"]

WINDOW = 7  # region-mean window, constant across stages (Sec. IV-A)
STEM_STRIDE = 4


# ----------------------------------------------------------------------------------------------- block


class LocalGlobalBlock(nn.Module):
    """SALG's Local-Global transformer block (Eq. 2 and Eq. 3 / 4), or with ``segment=False`` the normal
    window-attention block of the last stage.

    Follows the lgvit encoder-block convention (:mod:`lgvit.models.base`): ``forward(x, num_frames, hw,
    bias)`` with ``x`` ``(B*T, nA + H*W, C)``: the ``nA`` AGR tokens (one per ``7x7`` window of the
    padded map, row-major; ``nA = 0`` without AGR tokens), then the ``(H, W)`` map tokens row-major. The
    layout is the same in every frame and every block; the per-frame segmentation only lives inside
    ``forward``.

    Args:
        dim, num_heads: width and attention heads.
        pad: coverage expansion ``p`` (0 for the normal block).
        segment: semantic-aware segmentation and AGR tokens (a SALG block) or not (the normal block).
        propagation: ``"ap"`` or ``"msa"`` inter-region propagation (SALG blocks only).
        propagate: run the propagation. False in the last block of a stage: the propagated AGR tokens
            would feed only a next block (the next stage starts new ones from its own, 4x coarser,
            windows), so there it would be dead computation and, for MSA, parameters without gradient.
    """

    segment: Final[bool]
    propagate: Final[bool]
    use_msa: Final[bool]
    # its attention weights serve queries of a region's members against the region's coverage area, not
    # lgvit.layers.Attention's token groups: joint attention over the frames of a clip is not defined
    supports_joint_space_time = False

    def __init__(
        self,
        dim: int,
        num_heads: int,
        pad: int = 1,
        segment: bool = True,
        propagation: str = "ap",
        propagate: bool = True,
        window: int = WINDOW,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        drop: float = 0.0,
        attn_drop: float = 0.0,
        drop_path: float = 0.0,
        act_layer: type[nn.Module] = nn.GELU,
        norm_layer: Callable[[int], nn.Module] = nn.LayerNorm,
    ):
        super().__init__()
        if not 0 <= pad < window:
            raise ValueError(
                f"the coverage expansion p={pad} must be in [0, window={window}): "
                "lower `pads` or raise `window`"
            )
        if segment and propagation not in ("ap", "msa"):
            raise ValueError(f"propagation must be 'ap' or 'msa', got {propagation!r}")
        self.window = window
        self.pad = pad
        self.segment = segment
        self.propagate = segment and propagate
        self.use_msa = self.propagate and propagation == "msa"
        self.num_heads = num_heads
        self.coverage = window + 2 * pad  # K
        self.norm1 = norm_layer(dim)
        self.attn = Attention(
            dim, num_heads, qkv_bias=qkv_bias, attn_drop=attn_drop, proj_drop=drop
        )  # weights only
        self.rel_pos = nn.Parameter(torch.zeros(num_heads, (2 * self.coverage - 1) ** 2))
        self.register_buffer("rel_pos_index", relative_position_index(self.coverage), persistent=False)
        self.drop_path = DropPath(drop_path) if drop_path > 0.0 else nn.Identity()
        self.norm2 = norm_layer(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), act_layer=act_layer, drop=drop)
        if self.use_msa:  # Eq. 3: MSA + MLP among the AGR tokens
            self.prop_norm1 = norm_layer(dim)
            self.prop_attn = Attention(dim, num_heads, qkv_bias=qkv_bias, attn_drop=attn_drop, proj_drop=drop)
            self.prop_norm2 = norm_layer(dim)
            self.prop_mlp = Mlp(dim, int(dim * mlp_ratio), act_layer=act_layer, drop=drop)
        else:
            self.prop_norm1 = nn.Identity()
            self.prop_attn = nn.Identity()
            self.prop_norm2 = nn.Identity()
            self.prop_mlp = nn.Identity()
        trunc_normal_(self.rel_pos, std=0.02)

    def position_bias(self) -> torch.Tensor:
        """``(1, heads, nA + K*K, nA + K*K)`` relative position bias of a coverage area (nA = 1 with the
        AGR token: zero on its row and column)."""
        n = self.coverage * self.coverage
        rel = self.rel_pos[:, self.rel_pos_index.reshape(-1)].reshape(self.num_heads, n, n)
        if self.segment:
            rel = F.pad(rel, (1, 0, 1, 0))
        return rel.unsqueeze(0)

    def bias_table(self, dtype: torch.dtype) -> torch.Tensor:
        """``(heads, Kc * (Kc + 1))``: :meth:`position_bias` (``Kc`` codes: the AGR token and the coverage
        positions) with one more key column, the mask value, for the padding keys of
        :func:`lgvit.layers.member_layout`'s sequences."""
        rel = self.position_bias()[0].to(dtype)
        heads, codes = rel.shape[0], rel.shape[1]
        masked = torch.full((heads, codes, 1), mask_value(dtype), dtype=dtype, device=rel.device)
        return torch.cat((rel, masked), dim=2).reshape(heads, codes * (codes + 1))

    def regions(self, x: torch.Tensor, hw: Tuple[int, int]) -> torch.Tensor:
        """Eq. 1 on the block input ``x`` ``(B*T, nA + H*W, C)``: long ``(B*T, Hp, Wp)`` region of every
        token of the padded map (the uniform windows for the normal block). An argmax: no gradient, so
        none of its arithmetic is recorded for the backward."""
        x = x.detach()
        B, C = x.shape[0], x.shape[2]
        H, W = hw
        ws = self.window
        nh, nw = window_grid(hw, ws)
        if not self.segment:
            return window_regions((nh * ws, nw * ws), ws, x.device).unsqueeze(0).expand(B, -1, -1)
        valid = valid_mask(hw, ws, x.device)
        fmap = pad_to_windows(reshape(x[:, nh * nw :], [B, H, W, C]), ws)  # B, Hp, Wp, C
        return assign_regions(fmap, region_means(fmap, valid, ws), valid, ws, self.pad)

    def intra_region_attention(
        self, y: torch.Tensor, region: torch.Tensor, hw: Tuple[int, int], num_frames: int = 1
    ) -> torch.Tensor:
        """Eq. 2's Local-MSA for every region at once, written back: ``y`` ``(B*T, nA + H*W, C)`` (the
        normalised block input), ``region`` ``(B*T, Hp, Wp)`` -> ``(B*T, nA + H*W, C)``: each AGR token's
        row and each map token's value computed in its own region's coverage area.

        A region's attention is its members' and its AGR token's (the keys of the coverage area that are
        not members are masked out, and only members' query rows are written back), so each region is one
        sequence of exactly those tokens (:func:`lgvit.layers.member_layout`), padded to the largest region
        of the batch: no attention over the (K*K - members) other tokens of the area, every token a query
        once (:func:`lgvit.layers.member_attention`: q/k/v projected once per token and gathered into the
        sequences, the pair bias gathered from the block's bias table, one attention call, one gather
        back; under ``torch.compile`` one operator, so that the sequences keep the data's length)."""
        B, L, C = y.shape
        H, W = hw
        # the real tokens' regions by a gather of the padded map's rows (a slice to a symbolic H would make
        # torch.export specialise on unpadded sizes)
        real = torch.arange(H, device=y.device)[:, None] * region.shape[2] + torch.arange(W, device=y.device)
        region = reshape(region, [B, region.shape[1] * region.shape[2]]).index_select(1, real.reshape(H * W))
        attn = self.attn
        out = member_attention(
            attn.qkv(y).reshape(B * L, 3 * C),
            region,
            self.bias_table(y.dtype),
            hw,
            self.window,
            self.pad,
            self.segment,
            attn.num_heads,
            attn.attn_drop if self.training else 0.0,
        )
        return attn.proj_drop(attn.proj(out.reshape(B, L, C)))

    def forward(
        self, x: torch.Tensor, num_frames: int, hw: Tuple[int, int], bias: torch.Tensor | None = None
    ) -> torch.Tensor:
        """x ``(B*T, nA + H*W, C)`` -> the same shape; ``hw`` = ``(H, W)`` of the map; ``bias``: unused
        (the block builds its masks from its own segmentation)."""
        region = self.regions(x, hw)  # segmentation of this block's input, per frame
        nh, nw = window_grid(hw, self.window)
        nA = nh * nw if self.segment else 0
        x = x + self.drop_path(self.intra_region_attention(self.norm1(x), region, hw, num_frames))
        x = x + self.drop_path(self.mlp(self.norm2(x)))
        if not self.propagate:
            return x

        # inter-region propagation among the AGR tokens of each frame (Eq. 3 / Eq. 4)
        agr, tokens = x[:, :nA], x[:, nA:]
        if self.use_msa:
            agr = agr + self.drop_path(self.prop_attn(self.prop_norm1(agr), None, num_frames))
            agr = agr + self.drop_path(self.prop_mlp(self.prop_norm2(agr)))
        else:
            agr = agr.mean(dim=1, keepdim=True).expand(-1, nA, -1)
        return torch.cat((agr, tokens), dim=1)


# ----------------------------------------------------------------------------------------------- stage


@register_notrace_module  # input-size dependent padding and regions: FX keeps the stage as one call
class SALGStage(LGViTStage):
    """Optional patch merging, then ``depth`` blocks: SALG blocks with AGR tokens (``segment=True``) or
    normal window-attention blocks."""

    def __init__(
        self,
        in_dim: int,
        dim: int,
        depth: int,
        num_heads: int,
        pad: int,
        segment: bool,
        propagation: str,
        downsample: bool,
        window: int = WINDOW,
        drop_path: Sequence[float] = (),
        norm_layer: Callable[[int], nn.Module] = nn.LayerNorm,
        **block_kwargs: Any,
    ):
        super().__init__()
        if not downsample and in_dim != dim:
            raise ValueError(f"a stage without patch merging keeps its width, got {in_dim} -> {dim}")
        self.window = window
        self.segment = segment
        self.downsample = PatchMerging(in_dim, dim, norm_layer) if downsample else nn.Identity()
        # AGR initialisation (see the module docstring): one learned token + the region's window mean
        self.agr_token = nn.Parameter(torch.zeros(1, 1, dim)) if segment else None
        self.blocks = nn.ModuleList(
            LocalGlobalBlock(
                dim,
                num_heads,
                pad=pad,
                segment=segment,
                propagation=propagation,
                propagate=i < depth - 1,
                window=window,
                drop_path=drop_path[i] if drop_path else 0.0,
                norm_layer=norm_layer,
                **block_kwargs,
            )
            for i in range(depth)
        )
        if self.agr_token is not None:
            trunc_normal_(self.agr_token, std=0.02)

    def forward(self, x: torch.Tensor, num_frames: int = 1) -> torch.Tensor:
        """``(B*T, C_in, H, W)`` -> ``(B*T, C, H', W')`` (H' = ceil(H/2) after patch merging)."""
        x = self.downsample(x)
        B, C, H, W = x.shape
        tokens = reshape(x, [B, C, H * W]).transpose(1, 2)  # B*T, H*W, C
        nA = 0
        if self.agr_token is not None:
            fmap = pad_to_windows(tokens.reshape(B, H, W, C), self.window)
            means = region_means(fmap, valid_mask((H, W), self.window, x.device), self.window)  # B, nR, C
            nA = means.shape[1]
            tokens = torch.cat((self.agr_token.to(x.dtype) + means, tokens), dim=1)  # B*T, nA + H*W, C
        tokens = self.forward_blocks(tokens, num_frames, (H, W))
        return reshape(tokens[:, nA:].transpose(1, 2), [B, C, H, W])


# ----------------------------------------------------------------------------------------------- model


@dataclass(frozen=True)
class SALGCfg:
    """One SALG variant (Sec. III-D, IV-A). ``pads``: coverage expansion p of the three SALG stages."""

    dims: Tuple[int, ...] = (96, 192, 384, 768)
    depths: Tuple[int, ...] = (2, 2, 6, 2)
    heads: Tuple[int, ...] = (3, 6, 12, 24)
    pads: Tuple[int, ...] = (1, 2, 1)
    propagation: str = "ap"
    mlp_ratio: float = 4.0


class SALG(LGViTModel):
    """SALG backbone + classifier (see the module docstring).

    The classifier pools the last (normal) stage's map; the pyramid (``forward_pyramid``, timm features)
    is each stage's map at strides 4, 8, 16, 32.

    Args:
        dims, depths, heads, pads, propagation, mlp_ratio: the architecture (see :class:`SALGCfg`); the
            first ``len(pads)`` stages are SALG stages, the rest normal stages.
        window: the region-mean (and last-stage attention) window, 7 in the paper at every stage; smaller
            for small images (e.g. 4 for 32x32 inputs, whose first map is 8x8). Each pad must be below it.
        stem_convs: 3 (the paper's three-conv patch embedding, Sec. III-A) or 1 (RegionViT's 8x8/4 conv,
            the shared :class:`lgvit.layers.ConvStem`). Every registered variant uses 3; the tiny
            motion-direction video config uses 1, as the RegionViT one does (see its comment).
        in_chans, num_classes, global_pool, qkv_bias, drop_rate, attn_drop_rate, drop_path_rate,
        norm_layer, act_layer: as in timm's Swin.
        out_norms: add the detection LayerNorms of the pyramid path (the contract's switch).
        device, dtype: where and in which precision to build the parameters (timm's factory arguments).
    """

    def __init__(
        self,
        dims: Sequence[int] = (96, 192, 384, 768),
        depths: Sequence[int] = (2, 2, 6, 2),
        heads: Sequence[int] = (3, 6, 12, 24),
        pads: Sequence[int] = (1, 2, 1),
        propagation: str = "ap",
        mlp_ratio: float = 4.0,
        window: int = WINDOW,
        stem_convs: int = 3,
        in_chans: int = 3,
        num_classes: int = 1000,
        global_pool: str = "avg",
        qkv_bias: bool = True,
        drop_rate: float = 0.0,
        attn_drop_rate: float = 0.0,
        drop_path_rate: float = 0.0,
        norm_layer: Callable[[int], nn.Module] = nn.LayerNorm,
        act_layer: type[nn.Module] = nn.GELU,
        out_norms: bool = False,
        device: torch.device | None = None,
        dtype: torch.dtype | None = None,
    ):
        super().__init__()
        check_architecture(dims, depths, heads, in_chans, num_classes, drop_path_rate, window, pads=pads)
        if propagation not in ("ap", "msa"):
            raise ValueError(f"propagation must be 'ap' or 'msa', got {propagation!r}")
        self.dims = tuple(dims)
        self.pads = tuple(pads)
        self.propagation = propagation
        self.patch_embed = ConvStem(in_chans, dims[0], num_convs=stem_convs, act_layer=act_layer)
        self.pos_drop = nn.Dropout(drop_rate)
        block_args = dict(mlp_ratio=mlp_ratio, qkv_bias=qkv_bias, drop=drop_rate, attn_drop=attn_drop_rate)
        self.stages = build_stages(
            lambda i, in_dim, dim, depth, num_heads, drop_path: SALGStage(
                in_dim,
                dim,
                depth,
                num_heads,
                pad=pads[i] if i < len(pads) else 0,
                segment=i < len(pads),
                propagation=propagation,
                downsample=i > 0,
                window=window,
                drop_path=drop_path,
                norm_layer=norm_layer,
                act_layer=act_layer,
                **block_args,
            ),
            dims,
            depths,
            heads,
            drop_path_rate,
        )
        strides = [STEM_STRIDE * 2**i for i in range(len(dims))]
        self.init_contract(
            dims, strides, in_chans, num_classes, global_pool, drop_rate, norm_layer, out_norms
        )
        self.init_weights_and_place(device, dtype)

    # -- contract ------------------------------------------------------------------------------------

    @torch.jit.ignore
    def no_weight_decay(self) -> set[str]:
        """Besides norms and biases: the relative-position tables and the AGR tokens."""
        return {n for n, _ in self.named_parameters() if n.endswith(("rel_pos", "agr_token"))}

    @torch.jit.ignore
    def group_matcher(self, coarse: bool = False) -> Dict[str, Any]:
        return dict(
            stem=r"^patch_embed",
            blocks=r"^stages\.(\d+)"
            if coarse
            else [
                (r"^stages\.(\d+)\.(?:downsample|agr_token)", (0,)),
                (r"^stages\.(\d+)\.blocks\.(\d+)", None),
                (r"^norm", (99999,)),
            ],
        )

    @torch.jit.ignore
    def checkpoint_filter(self, state_dict: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """No official format exists. Relative-position tables of another coverage size (another window
        or ``p``) are resized bicubically to this model's; nothing else depends on the input size (the
        AGR tokens are one per stage, whatever the number of regions)."""
        own = {n: p.shape for n, p in self.named_parameters() if n.endswith("rel_pos")}
        out = dict(state_dict)
        for k, v in state_dict.items():
            if k in own and v.shape != own[k] and v.ndim == 2:
                side = int(round(own[k][1] ** 0.5))
                out[k] = resize_rel_pos_table(v, (side + 1) // 2)
        return out

    @torch.jit.ignore
    def segmentation(self, x: torch.Tensor, block: int = 0) -> List[torch.Tensor]:
        """The region maps of every SALG stage, as block ``block`` of the stage computes them (the
        visualiser draws these): ``(B, C_in, H, W)`` -> per SALG stage a long ``(B, h_i, w_i)`` of region
        indices (row-major ``7x7`` windows of that stage's map)."""
        maps: List[torch.Tensor] = []

        def hook(module: nn.Module, args: Tuple[Any, ...]) -> None:
            tokens, hw = args[0], args[2]
            maps.append(module.regions(tokens, hw)[:, : hw[0], : hw[1]])

        handles = [s.blocks[block].register_forward_pre_hook(hook) for s in self.stages if s.segment]
        try:
            with torch.no_grad():
                self.forward_stages(x)
        finally:
            for h in handles:
                h.remove()
        return maps


# ---------------------------------------------------------------------------------- param breakdown

COMPONENTS = ("stem", "attention", "mlp", "agr_propagation", "merging", "head", "detection_norms")


def _component(name: str) -> str:
    if name.startswith("patch_embed"):
        return "stem"
    if ".blocks." in name:
        if ".prop_" in name:
            return "agr_propagation"
        if ".mlp." in name or ".norm2." in name:
            return "mlp"
        return "attention"  # norm1, attn (qkv, proj), rel_pos
    if name.endswith("agr_token"):
        return "agr_propagation"
    if ".downsample." in name:
        return "merging"
    if name.startswith("det_norms"):
        return "detection_norms"
    if name.startswith(("norm.", "head.")):
        return "head"
    raise KeyError(f"unclassified SALG parameter {name}")


def param_breakdown(model: nn.Module) -> Dict[str, int]:
    """Parameters per component: stem, attention (pre-norm, qkv, proj, rel-pos tables), MLP (pre-norm,
    two linears), AGR propagation (AGR tokens; Eq. 3's MSA + MLP + norms in the ``msa`` variants),
    merging (patch merging norm + linear), head (final norm + classifier), detection norms."""
    out = dict.fromkeys(COMPONENTS, 0)
    for n, p in model.named_parameters():
        out[_component(n)] += p.numel()
    return out


# ------------------------------------------------------------------------------------------- variants

# heads: head dim 32 (Sec. IV-A); SALG-ST's first stage (C = 48) has 2 heads of 24 (32 does not divide 48;
# 24 is the divisor closest to 32)
_ST = dict(dims=(48, 96, 192, 384), depths=(2, 2, 2, 2), heads=(2, 3, 6, 12))
_T = dict(dims=(96, 192, 384, 768), depths=(2, 2, 6, 2), heads=(3, 6, 12, 24))
_S = dict(dims=(96, 192, 384, 768), depths=(2, 2, 18, 2), heads=(3, 6, 12, 24))
SALG_CFGS: Dict[str, SALGCfg] = {
    "salg_st": SALGCfg(**_ST),
    "salg_t": SALGCfg(**_T),
    "salg_s": SALGCfg(**_S),
    "salg_st_msa": SALGCfg(**_ST, propagation="msa"),
    "salg_t_msa": SALGCfg(**_T, propagation="msa"),
}


# ------------------------------------------------------------------------------------------ factories


default_cfgs = generate_default_cfgs(
    {f"{name}.untrained": pretrained_cfg("patch_embed.proj.0", (7, 7)) for name in SALG_CFGS}
)


def _create(variant: str, pretrained: bool = False, **kwargs: Any) -> SALG:
    return build_lgvit_model(SALG, variant, asdict(SALG_CFGS[variant]), pretrained, **kwargs)


@register
@register_model
def salg_st(pretrained: bool = False, **kwargs: Any) -> SALG:
    """SALG-ST: C = 48, blocks {2, 2, 2, 2}, average-pooling propagation (Table I)."""
    return _create("salg_st", pretrained, **kwargs)


@register
@register_model
def salg_t(pretrained: bool = False, **kwargs: Any) -> SALG:
    """SALG-T: C = 96, blocks {2, 2, 6, 2}, average-pooling propagation (Table I)."""
    return _create("salg_t", pretrained, **kwargs)


@register
@register_model
def salg_s(pretrained: bool = False, **kwargs: Any) -> SALG:
    """SALG-S: C = 96, blocks {2, 2, 18, 2}, average-pooling propagation (Table I)."""
    return _create("salg_s", pretrained, **kwargs)


@register
@register_model
def salg_st_msa(pretrained: bool = False, **kwargs: Any) -> SALG:
    """SALG-ST with MSA propagation among the AGR tokens (Table IV)."""
    return _create("salg_st_msa", pretrained, **kwargs)


@register
@register_model
def salg_t_msa(pretrained: bool = False, **kwargs: Any) -> SALG:
    """SALG-T with MSA propagation among the AGR tokens (Table IV)."""
    return _create("salg_t_msa", pretrained, **kwargs)
