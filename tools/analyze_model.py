#!/usr/bin/env python
"""Parameters and FLOPs of registered lgvit models, beside the paper's figures.

    python tools/analyze_model.py                              # every registered model at 224x224
    python tools/analyze_model.py --markdown                   # the same as the README's model table
    python tools/analyze_model.py regionvit_s --size 896 1344  # one model, detection-sized input
    python tools/analyze_model.py 'regionvit_*_w14' --kwarg strict_padding_mask=True

FLOPs are fvcore's (one multiply-add = one FLOP) with the fused-attention handle of
``lgvit.flops.count_flops`` (fvcore alone silently skips ``scaled_dot_product_attention``). The paper
columns are the ImageNet tables of the three papers (224x224; ``tools/lgvit_tools/reference.py``):
RegionViT Table 3 (the window-14 models are its "+" rows), SALG Tables I / IV (no FLOPs), RSIR Tables 2 / 3.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import sys
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # lgvit_tools (it puts the checkout on the path)
import lgvit_tools  # noqa: E402, F401  (the checkout on the path)
from lgvit_tools.reference import IMAGENET  # noqa: E402

import lgvit  # noqa: E402
from lgvit.flops import count_flops, count_params  # noqa: E402

PAPER = IMAGENET  # name -> (params M, GFLOPs at 224, source)


def analyze(name: str, size: tuple[int, int] = (224, 224), **kwargs: Any) -> dict[str, Any]:
    """Params and FLOPs of ``lgvit.create_model(name, **kwargs)`` on one ``(1, 3, H, W)`` image."""
    model = lgvit.create_model(name, **kwargs).eval()
    x = torch.randn(1, model.in_chans, *size)
    t = time.perf_counter()
    flops = count_flops(model, x)
    # the paper's figures apply to the default architecture at 224 (masking options change no weights)
    same_arch = set(kwargs) <= {"strict_padding_mask"}
    paper = PAPER.get(name, (None, None, None)) if tuple(size) == (224, 224) and same_arch else (None,) * 3
    return dict(
        model=name,
        params=count_params(model),
        gflops=flops / 1e9,
        paper_params_m=paper[0],
        paper_gflops=paper[1],
        source=paper[2],
        seconds=time.perf_counter() - t,
    )


def format_table(rows: list[dict[str, Any]]) -> str:
    def rel(ours, paper):
        return f"{100 * (ours / paper - 1):+.1f}%" if paper else "-"

    head = f"{'model':<22} {'params':>12} {'(M)':>7} {'paper':>6} {'diff':>7} | "
    head += f"{'GFLOPs':>7} {'paper':>6} {'diff':>7}"
    lines = [head, "-" * len(head)]
    for r in rows:
        pm, pg = r["paper_params_m"], r["paper_gflops"]
        lines.append(
            f"{r['model']:<22} {r['params']:>12,} {r['params'] / 1e6:>7.2f} {pm if pm else '-':>6} "
            f"{rel(r['params'] / 1e6, pm):>7} | "
            f"{r['gflops']:>7.2f} {pg if pg else '-':>6} {rel(r['gflops'], pg):>7}"
        )
    return "\n".join(lines)


def format_markdown(rows: list[dict[str, Any]]) -> str:
    """The rows as a markdown table (params in M, GFLOPs; the paper's values beside them)."""
    lines = [
        "| model | params (M) | paper | GFLOPs | paper | source |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        pm, pg = r["paper_params_m"], r["paper_gflops"]
        lines.append(
            f"| `{r['model']}` | {r['params'] / 1e6:.2f} | {pm if pm else '-'} | {r['gflops']:.2f} | "
            f"{pg if pg else '-'} | {r['source'] or '-'} |"
        )
    return "\n".join(lines)


def _kwarg(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    try:
        return key, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return key, value


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "models",
        nargs="*",
        default=["*"],
        help="model names or shell patterns (default: every registered model)",
    )
    p.add_argument("--size", nargs=2, type=int, default=(224, 224), metavar=("H", "W"), help="input size")
    p.add_argument(
        "--kwarg",
        action="append",
        type=_kwarg,
        default=[],
        metavar="KEY=VALUE",
        help="extra create_model argument (python literal), e.g. window=12 or strict_padding_mask=True; "
        "repeatable. The paper columns are shown only for the default architecture at 224x224",
    )
    p.add_argument("--markdown", action="store_true", help="print a markdown table (as in the READMEs)")
    args = p.parse_args(argv)
    names = [n for pat in args.models for n in lgvit.list_models() if fnmatch.fnmatch(n, pat)]
    if not names:
        p.error(f"no registered model matches {args.models}; known: {', '.join(lgvit.list_models())}")
    with torch.no_grad():
        rows = [analyze(n, tuple(args.size), **dict(args.kwarg)) for n in dict.fromkeys(names)]
    print(f"input 1x3x{args.size[0]}x{args.size[1]}" + (f", kwargs {dict(args.kwarg)}" if args.kwarg else ""))
    print(format_markdown(rows) if args.markdown else format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
