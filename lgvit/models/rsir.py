"""RSIR Transformer: random-sampling and important-region windows (Zhang & Gong; ``shared/papers/rsir.txt``).

Layout: attention -> block -> stage -> model -> checkpoint filter -> variants -> factories. The token
permutations are pure helpers in :mod:`lgvit.layers.permute`.

Architecture (paper section 3): a Swin-like hierarchy of four stages; a 4x4 patch embedding (conv +
LayerNorm), then Swin patch merging (2x2 concat, LayerNorm, linear ``4C -> 2C``) before stages 2-4;
pre-norm blocks ``x + RSIR-Win(LN(x))``, ``x + MLP(LN(x))`` (Eq. 3); final LayerNorm, global average pool,
linear head. RSIR-Win (Eq. 1-2) splits the K heads into two groups of K/2:

* **RS-Win** heads: the tokens are permuted, cut into windows of ``window**2`` consecutive permuted
  tokens, attend within their window, and the order is restored (Algorithm 1).
* **IR-Win** heads: the tokens are sorted by an importance map, most important first, so each window
  holds tokens of similar importance; attention, order restored (Algorithm 2).

The two groups' outputs are concatenated and projected by ``W^O`` (one ``C x C`` linear). ``qkv`` is
projected once per token (its rows regrouped so that each group's q, k, v are adjacent); one row gather of
that packed ``qkv`` puts both groups' token orders into windows (padding folded into the index), one
attention call runs both groups' windows, and one row gather restores the token order with the two groups'
outputs side by side; both gathers' backwards are gathers too (by the inverse permutation).

Where the paper is silent (documented choices):

* **Train vs eval.** In training, RS-Win draws a uniformly random permutation per image and block
  (argsort of ``torch.rand``, Algorithm 1: the global generator, so ``torch.manual_seed`` reproduces a
  run). In eval mode it uses a *fixed* pseudo-random permutation per (token count, block), the same for
  every image (:func:`lgvit.layers.fixed_permutation`: an integer hash, identical on every device and
  process), so evaluation is deterministic and batch-independent. ``rs_eval="random"`` keeps random
  permutations in eval mode too (test-time sampling).
* **Windows of permuted tokens.** Algorithm 1-2 reshape the permuted sequence to ``H x W`` and call Swin's
  ``window_partition``; with a random permutation any fixed grouping into ``window**2`` tokens has the
  same distribution, and for the sorted sequence consecutive chunks are the groups of most similar
  importance, so windows are consecutive runs of ``window**2`` permuted tokens (and need no 2-D padding).
  A map with fewer tokens than a window attends globally (as Swin clips the window to the map).
* **Padding.** Any input size: the image is zero-padded to a multiple of 4 for the patch embedding and
  odd maps to even sizes for patch merging (as Swin), so stage ``i`` has ``ceil(H / 2^(i+2))`` rows.
  When the token count is not a multiple of ``window**2``, padding tokens are appended *after* the
  permutation/sort (they never enter the importance sort) and masked out as keys of the last window.
* **Importance map.** Algorithm 2 takes the channel mean of the attention's input under no_grad.
  Behind the pre-norm that input is ``LN(x)``, whose channel mean is the mean of the LN bias (exactly
  0 at init) for every token: sorting by it is sorting by rounding noise. The map is therefore taken from
  the block input ``x`` (the residual stream) before the norm. ``importance="mean"`` (default) is the
  channel mean; ``importance="meanmax"`` adds the channel max (the two descriptors of CBAM's spatial
  attention, which the text mentions; CBAM's learned 7x7 conv is left out because an argsort passes no
  gradient to it).
* **Position information.** The paper names no position embedding or bias and a relative-position bias
  has no meaning between permuted tokens, so none is added: positions enter through the patch
  embedding and patch merging only.
"""

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any, Callable, Final, List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from timm.layers import DropPath, LayerNorm2d, Mlp, PatchEmbed, register_notrace_module
from timm.models import generate_default_cfgs, register_model

from .._registry import register
from ..layers import (
    Attention,
    PatchMerging,
    attention,
    capturing_graph,
    fixed_permutation,
    importance_permutation,
    random_permutation,
    token_window_bias,
    unwindow_permuted_rows,
    window_permutation_rows,
    window_permuted_rows,
)
from .base import (
    LGViTModel,
    LGViTStage,
    build_lgvit_model,
    build_stages,
    check_architecture,
    pretrained_cfg,
)

__all__ = ["RSIR", "RSIR_CFGS", "RSIRAttention", "RSIRBlock", "RSIRCfg", "RSIRStage", "ir_window_membership"]

PATCH = 4  # the first stage's spatial downsampling (paper 3.5)
IMPORTANCE = ("mean", "meanmax")


def importance_map(x: torch.Tensor, kind: str = "mean") -> torch.Tensor:
    """``(B, L, C)`` -> ``(B, L)`` token importance (no gradient): the channel mean (Algorithm 2), or
    mean + max (``"meanmax"``, CBAM's spatial descriptors)."""
    x = x.detach()
    score = x.mean(dim=-1)
    if kind == "meanmax":
        score = score + x.amax(dim=-1)
    return score


# ------------------------------------------------------------------------------------------- attention


class RSIRAttention(Attention):
    """RSIR-Win (Eq. 1-2): K/2 RS-Win heads and K/2 IR-Win heads, concatenated, projected by ``W^O``.

    ``forward(x, bias=None, num_frames=1, source=None)`` (the :class:`lgvit.layers.Attention` call):
    ``x`` ``(B, L, C)`` the (normalised) tokens in the block's frame-stable layout, ``source`` ``(B, L, C)``
    what the importance map is taken from (default ``x``); returns ``(B, L, C)`` in the same layout (the
    permutations stay inside). ``bias`` must be None (no position bias between permuted tokens). Every
    frame of a clip is an image here (``num_frames`` is the block convention's clip length).

    An :class:`lgvit.layers.Attention` with the same parameters (``qkv`` ``C -> 3C`` in the standard
    ``(q|k|v, head, head_dim)`` layout, ``proj`` = ``W^O``): heads ``0..K/2-1`` are the RS-Win group, the
    rest the IR-Win group; the packed ``qkv`` of every token is gathered into each group's windows (see
    the module docstring). So the video wrapper reads width/heads from it and can initialise temporal
    attention from it.

    ``block_seed`` seeds the fixed eval-mode RS permutation (one per block). ``rs_eval``: ``"fixed"``
    (default, deterministic) or ``"random"``, chosen here once (``random_eval``), not switched on in forward.
    """

    random_eval: Final[bool]

    def __init__(
        self,
        dim: int,
        num_heads: int,
        window: int = 7,
        qkv_bias: bool = True,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
        importance: str = "mean",
        block_seed: int = 0,
        rs_eval: str = "fixed",
    ):
        if num_heads < 2 or num_heads % 2:
            raise ValueError(
                f"RSIR splits the heads into two equal groups: num_heads must be even, got {num_heads}"
            )
        if importance not in IMPORTANCE:
            raise ValueError(f"importance must be one of {IMPORTANCE}, got {importance!r}")
        if rs_eval not in ("fixed", "random"):
            raise ValueError(f"rs_eval must be 'fixed' or 'random', got {rs_eval!r}")
        super().__init__(dim, num_heads, qkv_bias=qkv_bias, attn_drop=attn_drop, proj_drop=proj_drop)
        self.dim = dim
        self.group_heads = num_heads // 2
        self.window = window
        self.window_tokens = window * window
        self.importance = importance
        self.block_seed = block_seed
        self.random_eval = rs_eval == "random"

    def group_qkv(self, x: torch.Tensor, group: int) -> torch.Tensor:
        """``(B, L, C)`` -> ``(B, L, 3C/2)``: q, k, v of head group ``group`` (0: RS, 1: IR)."""
        C = self.dim
        w = self.qkv.weight.reshape(3, 2, C // 2, C)[:, group].reshape(3 * C // 2, C)
        b: torch.Tensor | None = None
        if self.qkv.bias is not None:
            b = self.qkv.bias.reshape(3, 2, C // 2)[:, group].reshape(3 * C // 2)
        return F.linear(x, w, b)

    def rs_permutation(self, batch: int, length: int, device: torch.device) -> torch.Tensor:
        """``(batch, length)`` RS-Win token order: random in training, fixed per (length, block) in eval."""
        if self.training or self.random_eval:
            return random_permutation(batch, length, device)
        return fixed_permutation(length, self.block_seed, device).expand(batch, -1)

    def ir_permutation(self, source: torch.Tensor) -> torch.Tensor:
        """``(B, L)`` IR-Win token order: decreasing importance of ``source`` ``(B, L, C)``."""
        return importance_permutation(importance_map(source, self.importance))

    def grouped_qkv_parameters(self) -> Tuple[torch.Tensor, torch.Tensor | None]:
        """``qkv``'s weight ``(3C, C)`` and bias with their rows in group-major order ``(group, q|k|v, head,
        head_dim)``: one linear layer with them gives, in row ``(b*L + l)*2 + g`` of its ``(B*L*2, 3C/2)``
        output, group ``g``'s q, k, v of token ``l`` (the same numbers as :meth:`group_qkv`)."""
        C = self.dim
        w = self.qkv.weight.reshape(3, 2, C // 2, C).transpose(0, 1).reshape(3 * C, C)
        b: torch.Tensor | None = None
        if self.qkv.bias is not None:
            b = self.qkv.bias.reshape(3, 2, C // 2).transpose(0, 1).reshape(3 * C)
        return w, b

    def forward(
        self,
        x: torch.Tensor,
        bias: torch.Tensor | None = None,
        num_frames: int = 1,
        source: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if bias is not None:
            raise ValueError("RSIR-Win takes no attention bias: positions are permuted inside")
        if source is None:
            source = x
        B, L, C = x.shape
        # a map with fewer tokens than a window attends globally; a captured graph keeps full windows
        # (the padding masked: the same attention) instead of a size-dependent window
        n = self.window_tokens if capturing_graph() else min(self.window_tokens, L)
        num_windows = (L + n - 1) // n
        # both head groups' token orders at once: RS-Win (random in training / fixed pseudo-random in eval)
        # and IR-Win (decreasing importance); one gather of the packed qkv windows both, one attention call
        # runs both groups' windows, one gather restores the token order with the groups side by side
        perm = torch.stack(
            (self.rs_permutation(B, L, x.device), self.ir_permutation(source)), dim=1
        )  # B, 2, L
        index, inverse, back = window_permutation_rows(perm, n)
        w, b = self.grouped_qkv_parameters()
        qkv = F.linear(x, w, b).reshape(B * L * 2, 3 * C // 2)  # row (b*L + l)*2 + g: group g of token l
        seq = window_permuted_rows(qkv, index, inverse)  # B*2*nW*n, 3C/2
        seq = seq.reshape(B * 2 * num_windows, n, 3, self.group_heads, self.head_dim)
        q, k, v = seq.permute(2, 0, 3, 1, 4).unbind(0)  # B*2*nW, heads/2, n, hd
        mask: torch.Tensor | None = None
        if capturing_graph() or num_windows * n > L:  # a captured graph always masks (all zero when whole)
            mask = token_window_bias(B * 2, L, n, x.dtype, x.device)  # B*2*nW, 1, 1, n
        y = attention(q, k, v, mask, self.attn_drop if self.training else 0.0)  # B*2*nW, heads/2, n, hd
        y = y.transpose(1, 2).reshape(B * 2 * num_windows * n, C // 2)
        y = unwindow_permuted_rows(y, inverse, back).reshape(B, L, C)  # token order, [RS | IR] channels
        return self.proj_drop(self.proj(y))


# ----------------------------------------------------------------------------------------------- block


class RSIRBlock(nn.Module):
    """RSIR Transformer block (Eq. 3). Follows the lgvit encoder-block convention
    (:mod:`lgvit.models.base`): ``forward(x, num_frames, hw, bias)`` with ``x`` ``(B*T, L, C)`` the stage's
    tokens row-major (frame-stable: the permutations happen inside the attention and are undone there);
    ``hw`` and ``bias`` are unused."""

    # RSIR-Win attends within windows of permuted tokens, not lgvit.layers.Attention's token groups
    supports_joint_space_time = False

    def __init__(
        self,
        dim: int,
        num_heads: int,
        window: int = 7,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        drop: float = 0.0,
        attn_drop: float = 0.0,
        drop_path: float = 0.0,
        importance: str = "mean",
        block_seed: int = 0,
        rs_eval: str = "fixed",
        act_layer: type[nn.Module] = nn.GELU,
        norm_layer: Callable[[int], nn.Module] = nn.LayerNorm,
    ):
        super().__init__()
        self.norm1 = norm_layer(dim)
        self.attn = RSIRAttention(
            dim, num_heads, window, qkv_bias, attn_drop, drop, importance, block_seed, rs_eval
        )
        self.drop_path = DropPath(drop_path) if drop_path > 0.0 else nn.Identity()
        self.norm2 = norm_layer(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), act_layer=act_layer, drop=drop)

    def forward(
        self,
        x: torch.Tensor,
        num_frames: int = 1,
        hw: Tuple[int, int] = (0, 0),
        bias: torch.Tensor | None = None,
    ) -> torch.Tensor:
        x = x + self.drop_path(self.attn(self.norm1(x), None, num_frames, source=x))
        return x + self.drop_path(self.mlp(self.norm2(x)))


# ----------------------------------------------------------------------------------------------- stage


@register_notrace_module  # input-size dependent padding and windows: FX keeps the stage as one call
class RSIRStage(LGViTStage):
    """Patch merging (stages 2-4), then ``depth`` RSIR blocks on the row-major token sequence."""

    def __init__(
        self,
        in_dim: int,
        dim: int,
        depth: int,
        num_heads: int,
        window: int,
        downsample: bool,
        first_block: int = 0,
        drop_path: Sequence[float] = (),
        norm_layer: Callable[[int], nn.Module] = nn.LayerNorm,
        **block_kwargs: Any,
    ):
        super().__init__()
        if not downsample and in_dim != dim:
            raise ValueError(f"a stage without downsampling keeps its width, got {in_dim} -> {dim}")
        self.downsample = PatchMerging(in_dim, dim, norm_layer) if downsample else nn.Identity()
        self.blocks = nn.ModuleList(
            RSIRBlock(
                dim,
                num_heads,
                window,
                drop_path=drop_path[i] if drop_path else 0.0,
                block_seed=first_block + i,
                norm_layer=norm_layer,
                **block_kwargs,
            )
            for i in range(depth)
        )

    def forward(self, x: torch.Tensor, num_frames: int = 1) -> torch.Tensor:
        """``(B*T, C_in, H, W)`` -> ``(B*T, C, H', W')`` (half the size when downsampling)."""
        x = self.downsample(x)
        B, C, H, W = x.shape
        x = x.flatten(2).transpose(1, 2)  # B*T, H*W, C: the frame-stable block layout
        x = self.forward_blocks(x, num_frames, (H, W))
        return x.transpose(1, 2).reshape(B, C, H, W)


# ----------------------------------------------------------------------------------------------- model


@dataclass(frozen=True)
class RSIRCfg:
    """One RSIR variant (paper Table 2): base width ``dims[0]`` doubling per stage, blocks and heads per
    stage. The window (tokens per window = ``window**2``) is not stated; 7 as Swin."""

    dims: Tuple[int, ...] = (64, 128, 256, 512)
    depths: Tuple[int, ...] = (2, 2, 16, 2)
    heads: Tuple[int, ...] = (4, 4, 8, 16)
    window: int = 7
    mlp_ratio: float = 4.0


class RSIR(LGViTModel):
    """RSIR Transformer backbone + classifier (see the module docstring for the design).

    Args:
        dims, depths, heads, window, mlp_ratio: the architecture (see RSIRCfg).
        in_chans: input channels.
        num_classes: classifier outputs (0 for none).
        global_pool: timm's adaptive pooling ('avg', 'max', 'avgmax', 'catavgmax', or '' for none).
        qkv_bias: bias in the q, k, v projections.
        drop_rate, attn_drop_rate, drop_path_rate: dropout, attention dropout, stochastic depth (linear).
        importance: the IR-Win importance map, ``"mean"`` (Algorithm 2) or ``"meanmax"`` (CBAM-like).
        rs_eval: RS-Win permutations in eval mode: ``"fixed"`` (deterministic, default) or ``"random"``.
        out_norms: add the detection LayerNorms used by :meth:`forward_pyramid`.
        device, dtype: where and in which precision to build the parameters (timm's factory arguments).
    """

    def __init__(
        self,
        dims: Sequence[int] = (64, 128, 256, 512),
        depths: Sequence[int] = (2, 2, 16, 2),
        heads: Sequence[int] = (4, 4, 8, 16),
        window: int = 7,
        mlp_ratio: float = 4.0,
        in_chans: int = 3,
        num_classes: int = 1000,
        global_pool: str = "avg",
        qkv_bias: bool = True,
        drop_rate: float = 0.0,
        attn_drop_rate: float = 0.0,
        drop_path_rate: float = 0.0,
        importance: str = "mean",
        rs_eval: str = "fixed",
        norm_layer: Callable[[int], nn.Module] = nn.LayerNorm,
        act_layer: type[nn.Module] = nn.GELU,
        out_norms: bool = False,
        device: torch.device | None = None,
        dtype: torch.dtype | None = None,
    ):
        super().__init__()
        check_architecture(dims, depths, heads, in_chans, num_classes, drop_path_rate, window)
        self.window = window
        self.dims = tuple(dims)
        self.patch_size = PATCH
        # timm's patch embedding: 4x4 patches (the image zero-padded at the right and bottom to a multiple
        # of 4), conv, then a LayerNorm over channels: (B, 3, H, W) -> (B, C, ceil(H/4), ceil(W/4))
        self.patch_embed = PatchEmbed(
            None,
            PATCH,
            in_chans,
            dims[0],
            norm_layer=partial(LayerNorm2d, eps=1e-5),
            output_fmt="NCHW",
            strict_img_size=False,
            dynamic_img_pad=True,  # pads nothing after forward_stem's padding
        )
        self.pos_drop = nn.Dropout(drop_rate)

        block_args = dict(mlp_ratio=mlp_ratio, qkv_bias=qkv_bias, drop=drop_rate, attn_drop=attn_drop_rate)
        self.stages = build_stages(
            lambda i, in_dim, dim, depth, num_heads, drop_path: RSIRStage(
                in_dim,
                dim,
                depth,
                num_heads,
                window,
                downsample=i > 0,
                first_block=sum(depths[:i]),
                drop_path=drop_path,
                norm_layer=norm_layer,
                importance=importance,
                rs_eval=rs_eval,
                act_layer=act_layer,
                **block_args,
            ),
            dims,
            depths,
            heads,
            drop_path_rate,
        )
        strides = [PATCH * 2**i for i in range(len(dims))]
        self.init_contract(
            dims, strides, in_chans, num_classes, global_pool, drop_rate, norm_layer, out_norms
        )
        self.init_weights_and_place(device, dtype)

    # -- contract ------------------------------------------------------------------------------------

    def forward_stem(self, x: torch.Tensor) -> torch.Tensor:
        """The image zero-padded at the bottom/right to ``4 * ceil(H/4)`` (a multiple written as such, so
        that symbolic shapes stay simple under ``torch.export``), then the patch embedding."""
        self.check_input(x)
        H, W, p = x.shape[2], x.shape[3], self.patch_size
        x = F.pad(x, (0, (W + p - 1) // p * p - W, 0, (H + p - 1) // p * p - H))
        return self.pos_drop(self.patch_embed(x))

    @torch.jit.ignore
    def no_weight_decay(self) -> set[str]:
        """Besides norms and biases nothing is exempt: RSIR has no position tables or tokens."""
        return set()

    @torch.jit.ignore
    def group_matcher(self, coarse: bool = False) -> dict[str, Any]:
        return dict(
            stem=r"^patch_embed",
            blocks=r"^stages\.(\d+)"
            if coarse
            else [
                (r"^stages\.(\d+)\.downsample", (0,)),
                (r"^stages\.(\d+)\.blocks\.(\d+)", None),
                (r"^norm", (99999,)),
            ],
        )

    @torch.jit.ignore
    def checkpoint_filter(self, state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """RSIR has no official checkpoint format and no parameter that depends on the window or the
        input size (no position tables or embeddings): checkpoints load unchanged at any window/size."""
        return state_dict


# ------------------------------------------------------------------------------------------ analysis


@torch.no_grad()
def ir_window_membership(model: RSIR, x: torch.Tensor, block: int = 0) -> List[torch.Tensor]:
    """Which tokens share an IR-Win window: for each stage, ``(B, h, w)`` int64 window indices (0 = the
    most important window) of block ``block`` of that stage, for images ``x`` ``(B, 3, H, W)`` (eval mode,
    the model's own importance map; tools/visualize_rsir_windows.py draws them)."""
    captured: List[torch.Tensor] = []

    def hook(module: nn.Module, args: Tuple[Any, ...]) -> None:
        captured.append(args[0])

    handles = [stage.blocks[block].register_forward_pre_hook(hook) for stage in model.stages]
    try:
        _, pyramid = model.forward_stages(x)
    finally:
        for h in handles:
            h.remove()
    out = []
    for stage, tokens, fmap in zip(model.stages, captured, pyramid):
        attn = stage.blocks[block].attn
        B, L, _ = tokens.shape
        n = min(attn.window_tokens, L)
        perm = attn.ir_permutation(tokens)  # B, L: token order by importance
        window_of_rank = torch.arange(L, device=x.device) // n
        member = torch.empty_like(perm).scatter_(1, perm, window_of_rank.expand(B, -1))
        out.append(member.reshape(B, fmap.shape[2], fmap.shape[3]))
    return out


# ------------------------------------------------------------------------------------------- variants

RSIR_CFGS: dict[str, RSIRCfg] = {
    "rsir_t": RSIRCfg(dims=(64, 128, 256, 512), depths=(2, 2, 16, 2), heads=(4, 4, 8, 16)),
    "rsir_b": RSIRCfg(dims=(96, 192, 384, 768), depths=(2, 4, 24, 2), heads=(4, 8, 16, 32)),
}


# ------------------------------------------------------------------------------------------ factories


default_cfgs = generate_default_cfgs(
    # the last stage's map at 224 is 7x7 (stride 32)
    {f"{name}.untrained": pretrained_cfg("patch_embed.proj", (7, 7)) for name in RSIR_CFGS}
)


def _create(variant: str, pretrained: bool = False, **kwargs: Any) -> RSIR:
    return build_lgvit_model(RSIR, variant, asdict(RSIR_CFGS[variant]), pretrained, **kwargs)


@register
@register_model
def rsir_t(pretrained: bool = False, **kwargs: Any) -> RSIR:
    """RSIR-T (Table 2: C=64, blocks 2,2,16,2, heads 4,4,8,16)."""
    return _create("rsir_t", pretrained, **kwargs)


@register
@register_model
def rsir_b(pretrained: bool = False, **kwargs: Any) -> RSIR:
    """RSIR-B (Table 2: C=96, blocks 2,4,24,2, heads 4,8,16,32)."""
    return _create("rsir_b", pretrained, **kwargs)
