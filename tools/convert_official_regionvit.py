#!/usr/bin/env python
"""Convert an official IBM RegionViT checkpoint (https://github.com/IBM/RegionViT) into lgvit's format.

    python tools/convert_official_regionvit.py regionvit_small_224.pth -o regionvit_s.pth
    python tools/convert_official_regionvit.py regionvit_small_224.pth -o s_384.pth --window 12
    python tools/convert_official_regionvit.py det_backbone.pth -o s_det.pth --variant regionvit_s_w14
    python tools/convert_official_regionvit.py regionvit_small_224.pth --model-dir regionvit_s.model

The architecture is read from the tensor shapes (widths, depths, heads, window, stem, PEG, detection
norms) and matched against the registered variants (or checked against ``--variant``). Module names are
mapped and the relative-position tables permuted by
``lgvit.models.regionvit_official.convert_official_state_dict``;
a window change resizes the tables and the regional tokenizer bicubically (RegionViT A.1, like the
official ``tools/convert_cls_model_to_diff_ws.py``, but on our geometric table layout). The result is
loaded into the model it describes before saving, and missing/unexpected keys are reported by name.

Output: ``{'model': state_dict, 'variant': name or None, 'window': int, 'model_args': RegionViT kwargs}``.
It loads with ``lgvit.RegionViT(**ckpt['model_args'])``, with :func:`build_from_converted`, or through
timm: ``timm.create_model(variant, pretrained=True, pretrained_cfg_overlay=dict(file=path))``.

``--model-dir DIR`` (instead of or besides ``-o``) writes a model directory in timm's layout
(``config.json`` + ``model.safetensors``, :func:`lgvit.checkpoint.save_pretrained`):
``timm.create_model("local-dir:DIR", pretrained=True)`` rebuilds the converted model from it.

The functions are importable (tests load this file by path; ``tools`` is not an importable package).
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

import lgvit
from lgvit.checkpoint import CheckpointError, load_state_dict, read_checkpoint, unwrap_state_dict
from lgvit.layers import canonical_to_official_table
from lgvit.models.regionvit import REGIONVIT_CFGS, RegionViT, adapt_window
from lgvit.models.regionvit_official import convert_official_state_dict, is_official_state_dict

ARCH_FIELDS = ("dims", "depths", "heads", "stem_convs", "peg", "mlp_ratio")

# the official model names (``regionvit_<name>_224`` in the IBM repo) -> ours
OFFICIAL_NAMES = {
    "tiny": "regionvit_ti",
    "small": "regionvit_s",
    "medium": "regionvit_m",
    "base": "regionvit_b",
    "tiny_w14": "regionvit_ti_w14",
    "small_w14": "regionvit_s_w14",
    "medium_w14": "regionvit_m_w14",
    "base_w14": "regionvit_b_w14",
    "small_w14_peg": "regionvit_s_w14_peg",
    "base_w14_peg": "regionvit_b_w14_peg",
}


def infer_model_args(sd: dict[str, torch.Tensor]) -> dict[str, Any]:
    """RegionViT kwargs described by an official state dict, read from tensor shapes."""
    if not is_official_state_dict(sd):
        raise ValueError(
            "not an official RegionViT state dict: expected 'cls_token.proj.weight' and 'layers.*' keys, got "
            + ", ".join(list(sd)[:8])
            + (" ..." if len(sd) > 8 else "")
        )
    blocks: dict[int, set[int]] = {}
    for k in sd:
        m = re.match(r"layers\.(\d+)\.block\.(\d+)\.", k)
        if m:
            blocks.setdefault(int(m[1]), set()).add(int(m[2]))
    stages = sorted(blocks)
    if stages != list(range(len(stages))):
        raise ValueError(f"official checkpoint has non-contiguous stages {stages}")
    if 0 in blocks[0]:
        raise ValueError(
            "official configs with a projection before stage 0 (embed_dim[0] != embed_dim[1]) are unsupported"
        )
    depths = tuple(len(blocks[i] - {0}) for i in stages)
    dims = tuple(sd[f"layers.{i}.block.1.norm1.weight"].shape[0] for i in stages)
    heads = tuple(sd[f"layers.{i}.block.1.attn.rel_pos"].shape[0] for i in stages)
    sides = {int(round(sd[f"layers.{i}.block.1.attn.rel_pos"].shape[1] ** 0.5)) for i in stages}
    if len(sides) != 1:
        raise ValueError(f"per-stage window sizes differ ({sorted(sides)} table sides); unsupported")
    window = (sides.pop() + 1) // 2
    region_kernel = sd["cls_token.proj.weight"].shape[-1]
    if region_kernel != 4 * window:
        raise ValueError(
            f"regional tokenizer kernel {region_kernel} does not match window {window} "
            f"(expected {4 * window})"
        )
    if "patch_embed.proj.0.weight" in sd:
        stem_convs = 3
    elif "patch_embed.proj.weight" in sd:
        stem_convs = 1
    else:
        raise ValueError(
            "unknown local-token stem: no 'patch_embed.proj.0.weight' nor 'patch_embed.proj.weight'"
        )
    return dict(
        dims=dims,
        depths=depths,
        heads=heads,
        window=window,
        stem_convs=stem_convs,
        peg="layers.0.peg.weight" in sd,
        mlp_ratio=sd["layers.0.block.1.mlp.fc1.weight"].shape[0] / dims[0],
        in_chans=sd["cls_token.proj.weight"].shape[1],
        num_classes=sd["head.weight"].shape[0] if "head.weight" in sd else 0,
        qkv_bias="layers.0.block.1.attn.qkv.bias" in sd,
        out_norms="norm0.weight" in sd,
    )


def _arch(args: dict[str, Any]) -> dict[str, Any]:
    return {f: (tuple(args[f]) if isinstance(args[f], (list, tuple)) else args[f]) for f in ARCH_FIELDS}


def match_variant(args: dict[str, Any]) -> str | None:
    """The registered variant with this architecture and window, if any."""
    for name, cfg in REGIONVIT_CFGS.items():
        c = asdict(cfg)
        if _arch(c) == _arch(args) and c["window"] == args["window"]:
            return name
    return None


def resolve_variant(variant: str) -> str:
    variant = OFFICIAL_NAMES.get(variant.removeprefix("regionvit_").removesuffix("_224"), variant)
    if variant not in REGIONVIT_CFGS:
        raise ValueError(f"unknown variant {variant!r}; known: {', '.join(sorted(REGIONVIT_CFGS))}")
    return variant


def convert(
    checkpoint: dict[str, Any],
    variant: str | None = None,
    window: int | None = None,
    det_norms: str = "keep",
    num_classes: int | None = None,
    log=print,
) -> dict[str, Any]:
    """Official checkpoint (or bare state dict) -> ``{'model', 'variant', 'window', 'model_args'}``.

    Args:
        variant: our variant name (or the official one, e.g. 'small_w14'); checked against the shapes.
            Its window is the target window unless ``window`` is given. None: inferred.
        window: target window size (bicubic resize of rel-pos tables and regional tokenizer).
        det_norms: 'keep' the official detection norms ``norm0..3`` if present, 'drop' them, or 'init'
            (keep, or add identity LayerNorms when absent: for a detection backbone built with out_norms).
        num_classes: a new classifier size; a different one drops the checkpoint's head.
    Raises:
        ValueError naming what does not match.
    """
    if det_norms not in ("keep", "drop", "init"):
        raise ValueError(f"det_norms must be 'keep', 'drop' or 'init', got {det_norms!r}")
    sd = unwrap_state_dict(checkpoint)
    args = infer_model_args(sd)
    src_window = args["window"]
    if variant is not None:
        variant = resolve_variant(variant)
        want = asdict(REGIONVIT_CFGS[variant])
        diff = [
            f"{f}: checkpoint {_arch(args)[f]} vs {variant} {_arch(want)[f]}"
            for f in ARCH_FIELDS
            if _arch(args)[f] != _arch(want)[f]
        ]
        if diff:
            raise ValueError(f"checkpoint does not match {variant}: " + "; ".join(diff))
        if window is None:
            window = want["window"]
    window = window or src_window

    out = convert_official_state_dict(sd, src_window)
    if window != src_window:
        log(f"window {src_window} -> {window}: resizing rel-pos tables and the regional tokenizer (bicubic)")
        out = adapt_window(out, window)
    args["window"] = window

    if det_norms == "drop":
        out = {k: v for k, v in out.items() if not k.startswith("det_norms.")}
        args["out_norms"] = False
    elif det_norms == "init" and not args["out_norms"]:
        for i, d in enumerate(args["dims"]):
            out[f"det_norms.{i}.weight"] = torch.ones(d)
            out[f"det_norms.{i}.bias"] = torch.zeros(d)
        args["out_norms"] = True
        log("added identity detection norms det_norms.0..3 (out_norms=True)")

    if num_classes is not None and num_classes != args["num_classes"]:
        dropped = [k for k in out if k.startswith("head.")]
        out = {k: v for k, v in out.items() if not k.startswith("head.")}
        log(f"num_classes {args['num_classes']} -> {num_classes}: dropped {', '.join(dropped) or 'no head'}")
        args["num_classes"] = num_classes

    # load into the described model: names every missing / unexpected key and shape mismatch
    model = RegionViT(**args)
    report = load_state_dict(model, out, strict=False)
    missing, unexpected = report.missing, report.unexpected
    allowed_missing = [k for k in missing if k.startswith("head.") and num_classes is not None]
    bad_missing = sorted(set(missing) - set(allowed_missing))
    if bad_missing or unexpected:
        raise ValueError(
            "converted checkpoint does not load:"
            + (f"\n  missing keys ({len(bad_missing)}): {', '.join(bad_missing)}" if bad_missing else "")
            + (f"\n  unexpected keys ({len(unexpected)}): {', '.join(unexpected)}" if unexpected else "")
        )
    if allowed_missing:
        log(f"newly initialised (not in the checkpoint): {', '.join(allowed_missing)}")

    matched = match_variant(args)
    if variant is None:
        variant = matched
    return dict(model=out, variant=variant, window=window, model_args=args)


def build_from_converted(ckpt: dict[str, Any]) -> RegionViT:
    """The model a converted checkpoint describes, with its weights loaded (strict)."""
    model = RegionViT(**ckpt["model_args"])
    model.load_state_dict(ckpt["model"])
    return model


def save_model_dir(ckpt: dict[str, Any], directory: str | Path) -> Path:
    """Writes a converted checkpoint as a model directory (:func:`lgvit.checkpoint.save_pretrained`): the
    registered variant with the converted arguments that differ from it (window, detection norms,
    classifier size), its weights loaded strictly. Needs a registered variant (timm rebuilds by name)."""
    from lgvit.checkpoint import save_pretrained

    variant = ckpt["variant"]
    if variant is None:
        raise ValueError(
            "a model directory needs a registered variant (timm rebuilds the model by name), but the "
            "checkpoint's architecture is none of "
            + ", ".join(lgvit.list_models("regionvit_*"))
            + "; write a checkpoint file with -o instead"
        )
    base = asdict(REGIONVIT_CFGS[variant])
    extra = {k: v for k, v in ckpt["model_args"].items() if k not in base or base[k] != v}
    extra.setdefault("num_classes", ckpt["model_args"].get("num_classes", 1000))
    model = lgvit.create_model(variant, **extra)
    load_state_dict(model, ckpt["model"], strict=True)
    return save_pretrained(model.eval(), directory, model_args=extra)


def to_official_format(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Our state dict -> the official names/layouts (inverse of the conversion; for tests and for
    comparing against the official code). Detection norms become ``norm0..3``."""
    window = None
    for k, v in sd.items():
        if k.endswith("rel_pos"):
            window = (int(round(v.shape[1] ** 0.5)) + 1) // 2
            break
    out: dict[str, torch.Tensor] = {}

    def as2d(v):  # official LayerNorm2d parameters are (1, C, 1, 1)
        return v.reshape(1, -1, 1, 1)

    for k, v in sd.items():
        p = k.split(".")
        if p[0] == "region_embed":
            out[".".join(["cls_token", *p[1:]])] = v
        elif p[0] == "det_norms":
            out[".".join([f"norm{p[1]}", *p[2:]])] = as2d(v)
        elif p[0] == "patch_embed" and len(p) == 4 and p[2] in ("1", "4"):
            out[k] = as2d(v)
        elif p[0] == "stages" and p[2] == "downsample":
            idx = {"norm": "0", "conv": "2"}[p[3]]
            val = as2d(v) if p[3] == "norm" else v
            for proj in ("proj", "proj_cls"):  # proj_cls is an alias of proj in the official module
                out[".".join(["layers", p[1], "block", "0", proj, idx, *p[4:]])] = val
        elif p[0] == "stages" and p[2] == "peg":
            out[".".join(["layers", *p[1:]])] = v
        elif p[0] == "stages" and p[2] == "blocks":
            blk = str(int(p[3]) + 1)
            if p[4] == "rel_pos":
                out[".".join(["layers", p[1], "block", blk, "attn", "rel_pos"])] = (
                    canonical_to_official_table(v, window)
                )
            else:
                out[".".join(["layers", p[1], "block", blk, *p[4:]])] = v
        else:
            out[k] = v
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Convert an official IBM RegionViT .pth checkpoint into lgvit's format "
        "({'model': state_dict, 'variant', 'window', 'model_args'}).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "input", type=Path, help="official checkpoint (.pth); the state dict may sit under 'model'"
    )
    p.add_argument("-o", "--output", type=Path, default=None, help="where to write the converted checkpoint")
    p.add_argument(
        "--model-dir",
        type=Path,
        default=None,
        help="also (or instead) write a model directory (config.json + model.safetensors, timm's layout): "
        "timm.create_model('local-dir:DIR', pretrained=True) rebuilds the model",
    )
    p.add_argument(
        "--variant",
        default=None,
        help="our variant name (e.g. regionvit_s, regionvit_s_w14_peg; official names like 'small_w14' work "
        "too). Checked against the checkpoint's shapes; its window becomes the target window. Default: "
        f"inferred from the shapes (one of {', '.join(lgvit.list_models('regionvit_*'))}, or none)",
    )
    p.add_argument(
        "--window",
        type=int,
        default=None,
        help="target window size M (e.g. 12 for 384x384 fine-tuning, paper A.1): the rel-pos tables and "
        "the regional tokenizer (kernel 4M) are resized bicubically. Default: the variant's, else the "
        "checkpoint's",
    )
    p.add_argument(
        "--det-norms",
        choices=("keep", "drop", "init"),
        default="keep",
        help="official detection LayerNorms norm0..norm3 (det_norm): keep them when present, drop them "
        "(classification checkpoint), or init: add identity norms when absent (for a detection backbone "
        "built with out_norms=True)",
    )
    p.add_argument(
        "--num-classes",
        type=int,
        default=None,
        help="classifier size of the converted model; a value different from the checkpoint's drops its head "
        "(0: no head). Default: the checkpoint's",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.output is None and args.model_dir is None:
        print("error: give -o/--output FILE, --model-dir DIR, or both", file=sys.stderr)
        return 2
    try:
        source = f"checkpoint {str(args.input)!r}"
        checkpoint = {"model": unwrap_state_dict(read_checkpoint(args.input), source)}
        ckpt = convert(checkpoint, args.variant, args.window, args.det_norms, args.num_classes)
        if args.model_dir is not None:
            save_model_dir(ckpt, args.model_dir)
    except (FileNotFoundError, CheckpointError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.output is not None:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        torch.save(ckpt, args.output)
    n = sum(v.numel() for v in ckpt["model"].values())
    a = ckpt["model_args"]
    where = " and ".join(str(p) for p in (args.output, args.model_dir) if p is not None)
    print(
        f"converted {args.input} -> {where}: variant {ckpt['variant'] or '(custom)'}, "
        f"window {ckpt['window']}, dims {a['dims']}, depths {a['depths']}, {a['num_classes']} classes, "
        f"detection norms {a['out_norms']}, {n / 1e6:.2f}M parameters"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
