"""The official IBM RegionViT checkpoint format (github.com/IBM/RegionViT): recognise, convert, build.

Used through RegionViT's checkpoint filter (:meth:`lgvit.models.regionvit.RegionViT.checkpoint_filter`),
so ``lgvit.checkpoint.load_pretrained`` and timm's pretrained loading accept official files directly.
"""

from __future__ import annotations

from typing import Any

import torch

from ..checkpoint import load_state_dict
from ..layers import official_to_canonical_table

__all__ = [
    "convert_official_state_dict",
    "is_official_state_dict",
    "official_window",
    "regionvit_from_official",
]

LOCAL_PATCH = 4


def is_official_state_dict(state_dict: dict[str, Any]) -> bool:
    """True for the official layout: its regional tokenizer ``cls_token.proj`` and R2L blocks under
    ``layers.{i}.block.{j}``. Both must be there: other models (e.g. Swin) also have ``layers.*`` keys."""
    has_tokenizer = "cls_token.proj.weight" in state_dict
    has_blocks = any(k.startswith("layers.") and ".block." in k for k in state_dict)
    return has_tokenizer and has_blocks


def official_window(state_dict: dict[str, torch.Tensor]) -> int:
    """The region size M of an official checkpoint, from its ``(heads, (2M-1)^2)`` rel-pos tables."""
    tables = [v for k, v in state_dict.items() if k.endswith("rel_pos")]
    if not tables:
        raise ValueError(
            "official RegionViT checkpoint without relative-position tables: cannot infer its window"
        )
    side = round(tables[0].shape[-1] ** 0.5)
    return (side + 1) // 2


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


def official_config_to_kwargs(config: dict[str, Any]) -> dict[str, Any]:
    """Official ``_model_cfg`` entry -> :class:`~lgvit.models.regionvit.RegionViT` kwargs."""
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


def regionvit_from_official(config: dict[str, Any], state_dict: dict[str, torch.Tensor], **kwargs: Any):
    """Builds the RegionViT described by an official ``_model_cfg`` dict and loads an official state dict.

    Detection norms ``norm0..norm3`` in the state dict turn on ``out_norms`` (used by forward_pyramid).
    ``num_classes`` follows the checkpoint's head. Raises a ValueError naming missing/unexpected keys.
    """
    from .regionvit import RegionViT

    cfg = official_config_to_kwargs(config)
    if "head.weight" in state_dict:
        cfg["num_classes"] = state_dict["head.weight"].shape[0]
    cfg["out_norms"] = "norm0.weight" in state_dict or bool(config.get("det_norm", False))
    cfg.update(kwargs)
    model = RegionViT(**cfg)
    load_state_dict(model, convert_official_state_dict(state_dict, cfg["window"]))
    return model
