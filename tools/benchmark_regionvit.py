#!/usr/bin/env python
"""RegionViT-S speed and memory, measured side by side in one run on the same machine and threads.

1. Inference throughput (images/s, eval, no grad) and training step time (forward + cross-entropy +
   backward + AdamW step) of ``regionvit_s`` vs timm's ``swin_tiny_patch4_window7_224`` (no weights).
   The two models alternate within every round, and the ratio is taken per round, then the median over
   rounds: on a shared machine the load drifts, and adjacent measurements see nearly the same load.
2. Peak training memory of the ``regionvit_s`` backbone at 896x1344 (``forward_pyramid``, sum of the four
   maps, backward), each model in its own subprocess (peak RSS: the worker's own ``VmHWM``),
   vs a global-attention baseline of the same widths: :class:`GlobalPyramidViT` -- the same stem, the
   same dims/depths/heads/FFN and the same downsampling convs, but every block attends over *all* local
   tokens of its stage (no regions, no regional tokens), with the attention matrix materialised as in
   ViT/PVT and as in the paper's complexity argument (Sec. 3.2: O(N^2) vs O((M+1)^2 N/M + (N/M)^2)).
   A fused kernel (``--baseline-attn sdpa``) avoids storing the matrix on CPU, so it would measure the
   kernel, not the attention pattern. At 896x1344 stage 1 alone has 75,264 tokens: the materialised
   baseline needs hundreds of GiB, so when its attention matrices cannot fit in the available memory it
   is not run and its lower bound (the retained softmax outputs alone) is reported instead. The same
   comparison is also *measured* at smaller sizes where both fit (``--mem-check-sizes``), which also
   checks that the lower bound is a lower bound.

    python tools/benchmark_regionvit.py                    # ~2-4 minutes on 2 cores
    python tools/benchmark_regionvit.py --skip-memory --infer-batch 16 --rounds 5

``tools/benchmark.py`` puts these and every other ratio (compiled, official code, detection size, video,
bf16) into one table; it imports the global baseline and its memory comparison from here. The shared
measuring helpers live in ``tools/lgvit_tools/benchmarking.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))  # lgvit_tools (it puts the checkout on the path)
from lgvit_tools.benchmarking import (  # noqa: E402
    compare_speed,
    create_classifier,
    median_ratio,
    run_json_worker,
)
from lgvit_tools.benchmarking import training_step_memory as _training_step_memory  # noqa: E402

SWIN = "swin_tiny_patch4_window7_224"
OURS = "regionvit_s"


# ------------------------------------------------------------------------------- global baseline


class GlobalAttention(nn.Module):
    """Multi-head self-attention over all tokens; ``materialize`` keeps the (heads, N, N) matrix."""

    def __init__(self, dim: int, heads: int, materialize: bool = True):
        super().__init__()
        self.heads, self.materialize = heads, materialize
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # B, N, C -> B, N, C
        B, N, C = x.shape
        q, k, v = self.qkv(x).reshape(B, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        if self.materialize:
            attn = (q * q.shape[-1] ** -0.5) @ k.transpose(-2, -1)  # B, heads, N, N
            x = attn.softmax(-1) @ v
        else:
            x = F.scaled_dot_product_attention(q, k, v)
        return self.proj(x.transpose(1, 2).reshape(B, N, C))


class GlobalBlock(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_ratio: float, materialize: bool):
        super().__init__()
        from timm.layers import Mlp

        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = GlobalAttention(dim, heads, materialize)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class GlobalPyramidViT(nn.Module):
    """RegionViT's pyramid (stem, widths, depths, heads, FFN, downsampling) with global attention over the
    local tokens of each stage instead of R2L attention. ``forward_pyramid`` returns the four maps."""

    def __init__(self, dims, depths, heads, stem_convs=3, mlp_ratio=4.0, materialize=True, **_: Any):
        super().__init__()
        from lgvit.layers import ConvStem, TokenDownsample

        self.patch_embed = ConvStem(3, dims[0], num_convs=stem_convs)
        self.downsample = nn.ModuleList(
            [nn.Identity()] + [TokenDownsample(a, b) for a, b in zip(dims[:-1], dims[1:])]
        )
        self.stages = nn.ModuleList(
            nn.ModuleList(GlobalBlock(d, h, mlp_ratio, materialize) for _ in range(n))
            for d, n, h in zip(dims, depths, heads)
        )

    def forward_pyramid(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.patch_embed(x)
        outs = []
        for down, blocks in zip(self.downsample, self.stages):
            x = down(x)
            B, C, H, W = x.shape
            t = x.flatten(2).transpose(1, 2)
            for blk in blocks:
                t = blk(t)
            x = t.transpose(1, 2).reshape(B, C, H, W)
            outs.append(x)
        return outs


def local_token_counts(h: int, w: int, stages: int = 4) -> list[int]:
    """Local tokens per stage for the 3-conv stem (ceil(H/4), then halved with ceil)."""
    hh, ww = -(-h // 4), -(-w // 4)
    out = []
    for i in range(stages):
        if i:
            hh, ww = -(-hh // 2), -(-ww // 2)
        out.append(hh * ww)
    return out


def global_attention_lower_bound_bytes(cfg: Any, h: int, w: int) -> int:
    """Bytes the materialised baseline cannot avoid: the softmax output of every block, kept for the
    backward pass (float32), plus one transient score matrix of the largest block."""
    ns = local_token_counts(h, w, len(cfg.dims))
    kept = sum(depth * heads * n * n * 4 for n, depth, heads in zip(ns, cfg.depths, cfg.heads))
    transient = max(heads * n * n * 4 for n, heads in zip(ns, cfg.heads))
    return kept + transient


def available_bytes() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 8 << 30


# ------------------------------------------------------------------------------------ memory worker


def classifier_memory_worker(name: str, size: int, batch: int, threads: int) -> dict[str, Any]:
    """Runs in a fresh process: one classification training step (forward, cross-entropy, backward) of
    the lgvit or timm model ``name`` at ``size`` with ``batch`` images; peak RSS."""
    torch.set_num_threads(threads)
    model = create_classifier(name, size).train()
    x, y = torch.randn(batch, 3, size, size), torch.randint(0, 1000, (batch,))
    return _training_step_memory(
        model, lambda: F.cross_entropy(model(x), y), kind=name, size=[size, size], batch=batch
    )


def memory_worker(kind: str, h: int, w: int, threads: int, baseline_attn: str) -> dict[str, Any]:
    """Runs in a fresh process: builds the backbone, one training step on forward_pyramid, peak RSS."""
    torch.set_num_threads(threads)
    import lgvit

    cfg = lgvit.REGIONVIT_CFGS[OURS]
    if kind == "regionvit":
        model = lgvit.create_model(OURS, num_classes=0)
    else:
        model = GlobalPyramidViT(**_asdict(cfg), materialize=baseline_attn == "materialized")
    model.train()
    x = torch.randn(1, 3, h, w)
    return _training_step_memory(
        model, lambda: sum(f.sum() for f in model.forward_pyramid(x)), kind=kind, size=[h, w]
    )


def _asdict(cfg: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(cfg)


def measure_memory(kind: str, h: int, w: int, threads: int, baseline_attn: str) -> dict[str, Any]:
    return _in_subprocess(
        ["--_mem-worker", kind, str(h), str(w), "--threads", str(threads), "--baseline-attn", baseline_attn],
        dict(kind=kind, size=[h, w]),
    )


def measure_classifier_memory(name: str, size: int, batch: int, threads: int) -> dict[str, Any]:
    return _in_subprocess(
        ["--_cls-mem-worker", name, str(size), str(batch), "--threads", str(threads)],
        dict(kind=name, size=[size, size]),
    )


def _in_subprocess(worker_args: list[str], what: dict[str, Any]) -> dict[str, Any]:
    """Runs a memory worker in a fresh process (its own peak RSS); ``what`` plus ``error`` if it fails."""
    return run_json_worker([sys.executable, __file__, *worker_args], what)


# ------------------------------------------------------------------------------------------ speed


def speed(args: argparse.Namespace) -> dict[str, Any]:
    """``args.model`` vs Swin-T in one interleaved rotation (``benchmarking.compare_speed``)."""
    OURS = args.model  # noqa: N806  (any registered lgvit model; RegionViT-S by default)
    torch.manual_seed(0)
    models = {name: create_classifier(name, args.size) for name in (OURS, SWIN)}
    params = {n: sum(p.numel() for p in m.parameters()) for n, m in models.items()}

    def log(r: int, row: dict[str, float]) -> None:
        ips = [args.infer_batch / row[f"{n}/infer"] for n in (OURS, SWIN)]
        step = [row[f"{n}/train"] for n in (OURS, SWIN)]
        print(
            f"  round {r + 1}/{args.rounds}: infer {ips[0]:.1f} vs {ips[1]:.1f} img/s, "
            f"train step {step[0]:.2f} vs {step[1]:.2f} s",
            flush=True,
        )

    res = compare_speed(
        models, (args.size, args.size), args.infer_batch, args.train_batch, args.rounds, args.iters,
        args.train_iters, compile=args.compile, log=log,
    )  # fmt: skip
    if res["failed"]:
        raise RuntimeError(f"warm-up failed: {res['failed']}")
    rounds = res["rounds"]

    def med(key):
        return statistics.median(r[key] for r in rounds)

    return dict(
        params=params,
        infer_img_s={n: args.infer_batch / med(f"{n}/infer") for n in models},
        train_step_s={n: med(f"{n}/train") for n in models},
        # per-round ratios (side by side), median over rounds
        throughput_ratio=median_ratio(rounds, f"{SWIN}/infer", f"{OURS}/infer"),
        train_time_ratio=median_ratio(rounds, f"{OURS}/train", f"{SWIN}/train"),
    )


def global_memory_comparison(h: int, w: int, threads: int, baseline_attn: str) -> dict[str, Any]:
    """RegionViT-S vs the global-attention baseline at ``h`` x ``w`` (batch 1), each in a fresh process;
    the baseline is not run (``skipped``) when its materialised attention cannot fit in memory."""
    import lgvit

    cfg = lgvit.REGIONVIT_CFGS[OURS]
    ours = measure_memory("regionvit", h, w, threads, baseline_attn)
    bound = global_attention_lower_bound_bytes(cfg, h, w)
    avail = available_bytes()
    if baseline_attn == "materialized" and bound > 0.7 * avail:
        base = dict(
            kind="global",
            size=[h, w],
            skipped=f"needs >= {bound / 2**30:.1f} GiB, {avail / 2**30:.1f} GiB available",
        )
    else:
        base = measure_memory("global", h, w, threads, baseline_attn)
    return dict(size=[h, w], regionvit=ours, global_=base, global_lower_bound=bound)


# ------------------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--threads", type=int, default=torch.get_num_threads(), help="torch intra-op threads (all runs)"
    )
    p.add_argument("--size", type=int, default=224, help="square input size for the speed runs")
    p.add_argument(
        "--model",
        default=OURS,
        help="the lgvit model compared with Swin-T in the speed runs (any registered name, e.g. salg_t)",
    )
    p.add_argument(
        "--compile",
        action="store_true",
        help="speed runs compiled vs compiled: torch.compile on both models (compilation happens in the "
        "warm-up and is not timed)",
    )
    p.add_argument("--infer-batch", type=int, default=8, help="batch size for inference throughput")
    p.add_argument("--train-batch", type=int, default=4, help="batch size for the training step")
    p.add_argument("--iters", type=int, default=3, help="timed inference iterations per model per round")
    p.add_argument("--train-iters", type=int, default=2, help="timed training steps per model per round")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians are reported")
    p.add_argument(
        "--mem-size",
        type=int,
        nargs=2,
        default=(896, 1344),
        metavar=("H", "W"),
        help="input size of the memory comparison (batch 1)",
    )
    p.add_argument(
        "--mem-check-sizes",
        type=int,
        nargs="*",
        default=(224, 336, 288, 432),
        metavar="H W",
        help="extra H W pairs where both backbones are measured (the baseline must fit)",
    )
    p.add_argument(
        "--baseline-attn",
        choices=("materialized", "sdpa"),
        default="materialized",
        help="global baseline attention: materialised (ViT/PVT-style, the paper's O(N^2) memory) or "
        "fused SDPA (O(N) memory on CPU, O(N^2) time)",
    )
    p.add_argument("--skip-speed", action="store_true", help="skip the Swin-T speed comparison")
    p.add_argument("--skip-memory", action="store_true", help="skip the memory comparison")
    p.add_argument("--json", type=Path, default=None, help="also write all numbers to this JSON file")
    p.add_argument("--_mem-worker", nargs=3, default=None, help=argparse.SUPPRESS)
    p.add_argument("--_cls-mem-worker", nargs=3, default=None, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    if args._mem_worker:
        kind, h, w = args._mem_worker
        print(json.dumps(memory_worker(kind, int(h), int(w), args.threads, args.baseline_attn)))
        return 0
    if args._cls_mem_worker:
        name, size, batch = args._cls_mem_worker
        print(json.dumps(classifier_memory_worker(name, int(size), int(batch), args.threads)))
        return 0

    results: dict[str, Any] = dict(threads=args.threads, torch=torch.__version__, load=os.getloadavg())
    print(f"torch {torch.__version__}, {args.threads} threads, load average {os.getloadavg()[0]:.1f}")
    if not args.skip_speed:
        mode = "compiled vs compiled" if args.compile else "eager"
        print(
            f"speed at {args.size}x{args.size} ({mode}): {args.model} vs {SWIN} "
            f"({args.rounds} interleaved rounds)"
        )
        s = speed(args)
        s["compiled"] = args.compile
        results["speed"] = s
        ours = args.model
        print(f"  params: {s['params'][ours] / 1e6:.2f}M vs {s['params'][SWIN] / 1e6:.2f}M")
        print(
            f"  inference (batch {args.infer_batch}): {s['infer_img_s'][ours]:.1f} vs "
            f"{s['infer_img_s'][SWIN]:.1f} img/s -> throughput ratio {s['throughput_ratio']:.2f}x Swin-T"
        )
        print(
            f"  training step (batch {args.train_batch}, AdamW): {s['train_step_s'][ours]:.2f} vs "
            f"{s['train_step_s'][SWIN]:.2f} s -> step-time ratio {s['train_time_ratio']:.2f}x Swin-T "
            f"(training speed {1 / s['train_time_ratio']:.2f}x)"
        )
        # peak memory of the same training step, each model in a fresh process
        peaks = {
            n: measure_classifier_memory(n, args.size, args.train_batch, args.threads)
            for n in (args.model, SWIN)
        }
        s["train_memory"] = peaks
        if all("peak_rss" in r for r in peaks.values()):
            step = {n: (r["peak_rss"] - r["rss_before"]) / 2**30 for n, r in peaks.items()}
            s["train_memory_ratio"] = step[args.model] / step[SWIN]
            print(
                f"  training-step memory (batch {args.train_batch}, activations + gradients above the "
                f"built model): {step[args.model]:.2f} vs {step[SWIN]:.2f} GiB -> "
                f"{s['train_memory_ratio']:.2f}x Swin-T (peak RSS "
                f"{peaks[args.model]['peak_rss'] / 2**30:.2f} vs {peaks[SWIN]['peak_rss'] / 2**30:.2f} GiB)"
            )
        else:
            print(f"  training-step memory: not measured ({peaks})")

    if not args.skip_memory:
        sizes = [tuple(args.mem_check_sizes[i : i + 2]) for i in range(0, len(args.mem_check_sizes) - 1, 2)]
        sizes.append(tuple(args.mem_size))
        mem = []
        print(f"peak training memory, batch 1, forward_pyramid + backward ({args.baseline_attn} baseline)")
        for h, w in sizes:
            row = global_memory_comparison(h, w, args.threads, args.baseline_attn)
            ours, base, bound = row["regionvit"], row["global_"], row["global_lower_bound"]
            mem.append(row)

            def act(r):
                return (r["peak_rss"] - r["rss_before"]) if "peak_rss" in r else None

            a_ours, a_base = act(ours), act(base)
            line = f"  {h}x{w}: regionvit_s peak {ours.get('peak_rss', 0) / 2**30:.2f} GiB "
            line += (
                f"(+{a_ours / 2**30:.2f} GiB in the step)" if a_ours is not None else f"[{ours.get('error')}]"
            )
            if a_base is not None:
                line += (
                    f" | global peak {base['peak_rss'] / 2**30:.2f} GiB (+{a_base / 2**30:.2f} GiB; "
                    f"lower bound {bound / 2**30:.2f}) | ratio peak "
                    f"{ours['peak_rss'] / base['peak_rss']:.3f}, step {a_ours / max(a_base, 1):.3f}"
                )
            else:
                reason = base.get("skipped") or base.get("error")
                line += f" | global not run ({reason})"
                if a_ours is not None:
                    ratio = ours["peak_rss"] / (bound + ours["rss_before"])
                    line += (
                        f" | ratio <= {ratio:.4f} (peak vs the baseline's lower bound), "
                        f"saving >= {100 * (1 - ratio):.1f}%"
                    )
            print(line, flush=True)
        results["memory"] = mem
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
