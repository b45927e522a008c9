#!/usr/bin/env python
"""Where the time of a training step (or an inference batch) goes: op-group shares and the matrix-product
work of lgvit models next to timm's Swin-T, from one torch.profiler run per model.

For each model it prints the share of self CPU time per op group (matrix multiplies, fused attention,
copies and layout changes, GELU, convolutions, LayerNorm, softmax, optimizer, other); for the matrix
multiplies (``mm``/``addmm``/``bmm``/``baddbmm``) the GFLOP they do and the GFLOP/s they reach (matmuls
inside a fused ``scaled_dot_product_attention`` kernel are in its own row, not in these); and the
model's whole **matrix-product work** (:func:`matrix_work_gflop`: linear layers, the attention's products
whichever kernel computes them, convolutions). Two models with the same throughput differ in speed by
their matrix-product work plus their time outside matrix products: that is the account tools/README.md
gives for RegionViT-S vs Swin-T, and ``tools/benchmark.py``'s bound. Absolute times depend on the
machine's load; shares and GFLOP counts do not.

    python tools/profile_step.py                                  # regionvit_s and Swin-T, training step
    python tools/profile_step.py --mode infer --models regionvit_s salg_t rsir_t --threads 2
"""

import argparse
import collections
import math
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # lgvit_tools (it puts the checkout on the path)
import lgvit_tools  # noqa: E402, F401  (the checkout on the path)
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

SWIN = "swin_tiny_patch4_window7_224"
# the op groups whose time is matrix products (what matrix_work_gflop counts)
MATRIX_GROUPS = ("gemm", "conv", "fused attention")
GEMM_OPS = ("aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm")
COPY_OPS = (
    "aten::copy_",
    "aten::clone",
    "aten::cat",
    "aten::index",
    "aten::index_put_",
    "aten::_index_put_impl_",
    "aten::constant_pad_nd",
    "aten::roll",
)


def op_group(name: str) -> str:
    """The group a profiler op name is counted in."""
    if name in GEMM_OPS:
        return "gemm"
    if "scaled_dot_product" in name or "flash_attention" in name:
        return "fused attention"
    if name in COPY_OPS:
        return "copies"
    for key, group in (
        ("layer_norm", "layernorm"),
        ("softmax", "softmax"),
        ("gelu", "gelu"),
        ("conv", "conv"),
        ("_foreach", "optimizer"),
        ("addcdiv", "optimizer"),
        ("lerp", "optimizer"),
    ):
        if key in name:
            return group
    return "other"


def gemm_flops(name: str, shapes: list[list[int]]) -> int:
    """FLOPs (2 per multiply-add) of one matrix multiply from its input shapes."""
    a, b = (shapes[1], shapes[2]) if name in ("aten::addmm", "aten::baddbmm") else (shapes[0], shapes[1])
    return 2 * math.prod(a) * b[-1]


def profiled_gemm_flops(prof: Any) -> int:
    """FLOPs of the matrix multiplies (:data:`GEMM_OPS`) a ``torch.profiler.profile(record_shapes=True)``
    recorded."""
    flops = 0
    for e in prof.key_averages(group_by_input_shape=True):
        if e.key in GEMM_OPS and e.input_shapes:
            flops += gemm_flops(e.key, e.input_shapes) * e.count
    return flops


def matrix_work_gflop(fn: Any) -> float:
    """Matrix-product work of one call of ``fn`` in GFLOP (2 per multiply-add), counted by torch's own
    ``FlopCounterMode``: every matrix multiply, the attention's two products whichever kernel computes them
    (SDPA's fused kernels included: the written-out form of lgvit's short sequences and Swin-T's SDPA count
    alike), and every convolution, forward and backward (oneDNN runs them as matrix products, at the
    throughput of the linear layers: 186-204 GFLOP/s for the 3x3 stem convolutions of RegionViT and SALG on
    a 2-thread AMD EPYC, against 150-200 for the linear layers). The work is a property of the model and
    input shape, not of the machine: ``tools/benchmark.py`` divides Swin-T's by a model's for its bound (the
    speed ratio it would reach at Swin-T's throughput with no other cost)."""
    from torch.utils.flop_counter import FlopCounterMode, sdpa_backward_flop_count, sdpa_flop_count

    aten = torch.ops.aten
    # torch's counter knows SDPA's GPU kernels, not its CPU flash kernel: the same formulas for that one
    # (custom formulas receive the shapes of the arguments)
    mapping = {
        aten._scaled_dot_product_flash_attention_for_cpu: lambda q, k, v, *a, **kw: sdpa_flop_count(q, k, v),
        aten._scaled_dot_product_flash_attention_for_cpu_backward: (
            lambda g, q, k, v, *a, **kw: sdpa_backward_flop_count(g, q, k, v)
        ),
    }
    with FlopCounterMode(display=False, custom_mapping=mapping) as counter:
        fn()
    return counter.get_total_flops() / 1e9


def profile_model(
    name: str, mode: str, batch: int, size: int, steps: int, bf16: bool = False
) -> dict[str, Any]:
    """Profiles ``steps`` training steps (forward, cross-entropy, backward, AdamW) or inference batches of
    the timm/lgvit model ``name`` after two warm-up steps (under bfloat16 autocast with ``bf16``); op-group
    seconds per step, GEMM work and matrix-product work."""
    import contextlib

    from lgvit_tools.benchmarking import create_classifier
    from torch.profiler import ProfilerActivity, profile

    torch.manual_seed(0)
    model = create_classifier(name, size)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, foreach=True)  # its ops: _foreach_*
    x, y = torch.randn(batch, 3, size, size), torch.randint(0, 1000, (batch,))

    def step() -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext():
            run()

    def run() -> None:
        if mode == "train":
            model.train()
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()
            opt.step()
        else:
            model.eval()
            with torch.no_grad():
                model(x)

    step()
    matrix_gflop = matrix_work_gflop(step)  # the second warm-up step, counted
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        for _ in range(steps):
            step()
    groups: dict[str, float] = collections.Counter()
    for e in prof.key_averages():
        groups[op_group(e.key)] += e.self_cpu_time_total / 1e6 / steps
    flops = profiled_gemm_flops(prof) // steps
    total = sum(groups.values())
    return dict(
        model=name,
        seconds=total,
        shares={g: t / total for g, t in sorted(groups.items(), key=lambda kv: -kv[1])},
        gemm_gflop=flops / 1e9,
        gemm_gflop_s=flops / 1e9 / max(groups["gemm"], 1e-9),
        matrix_gflop=matrix_gflop,
    )


def report(results: list[dict[str, Any]], mode: str) -> str:
    groups = list(dict.fromkeys(g for r in results for g in r["shares"]))
    lines = [f"self CPU time per {'training step' if mode == 'train' else 'inference batch'}"]
    lines.append(f"{'':<16}" + "".join(f"{r['model'][:18]:>20}" for r in results))
    lines.append(f"{'seconds':<16}" + "".join(f"{r['seconds']:>20.3f}" for r in results))
    for g in groups:
        lines.append(f"{g:<16}" + "".join(f"{100 * r['shares'].get(g, 0.0):>19.1f}%" for r in results))
    lines.append(f"{'GEMM GFLOP':<16}" + "".join(f"{r['gemm_gflop']:>20.1f}" for r in results))
    lines.append(f"{'GEMM GFLOP/s':<16}" + "".join(f"{r['gemm_gflop_s']:>20.1f}" for r in results))
    lines.append(f"{'matrix GFLOP':<16}" + "".join(f"{r['matrix_gflop']:>20.1f}" for r in results))
    if len(results) > 1:
        base = results[-1]
        for r in results[:-1]:
            non_gemm = [_seconds_outside(m, ("gemm",)) for m in (r, base)]
            outside = [_seconds_outside(m, MATRIX_GROUPS) for m in (r, base)]
            lines.append(
                f"{r['model']} / {base['model']}: time {r['seconds'] / base['seconds']:.2f}x, matrix work "
                f"{r['matrix_gflop'] / base['matrix_gflop']:.2f}x, time outside matrix products "
                f"{outside[0] / outside[1]:.2f}x (GEMM work {r['gemm_gflop'] / base['gemm_gflop']:.2f}x, "
                f"non-GEMM time {non_gemm[0] / non_gemm[1]:.2f}x)"
            )
    return "\n".join(lines)


def _seconds_outside(result: dict[str, Any], groups: tuple[str, ...]) -> float:
    return result["seconds"] * (1 - sum(result["shares"].get(g, 0.0) for g in groups))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--models", nargs="+", default=["regionvit_s"], help="lgvit (or timm) models; Swin-T is always added"
    )
    p.add_argument("--mode", choices=("train", "infer"), default="train", help="training step or inference")
    p.add_argument("--batch", type=int, default=None, help="batch size (default: 4 train, 8 infer)")
    p.add_argument("--size", type=int, default=224, help="square input size")
    p.add_argument("--steps", type=int, default=2, help="profiled steps per model (after 2 warm-up steps)")
    p.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch intra-op threads")
    p.add_argument("--bf16", action="store_true", help="run every model under torch.autocast(bfloat16)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    batch = args.batch or (4 if args.mode == "train" else 8)
    names = [m for m in args.models if m != SWIN] + [SWIN]
    results = [profile_model(n, args.mode, batch, args.size, args.steps, args.bf16) for n in names]
    precision = "bfloat16 autocast" if args.bf16 else "float32"
    size = f"{args.size}x{args.size}"
    print(f"torch {torch.__version__}, {args.threads} threads, batch {batch}, {size}, {precision}")
    print(report(results, args.mode))
    return 0


if __name__ == "__main__":
    sys.exit(main())
