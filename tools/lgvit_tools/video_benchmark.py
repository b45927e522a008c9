"""Training speed and peak memory: divided space-time vs joint space-time attention, same widths.

The command is ``tools/benchmark_video.py``; ``tools/benchmark.py --sections video`` puts the same numbers in
the table of every benchmark. Each model is measured in its own subprocess (``tools/benchmark_video.py
--worker ...``) so peak
memory is per model: on CUDA ``torch.cuda.max_memory_allocated``; on CPU the process's peak resident
set (``VmHWM``) minus its RSS just before the first training step (model, optimizer and input already
allocated) -- i.e. activations, gradients, optimizer state and workspace. ``ru_maxrss`` is not used: in a
subprocess it starts at the parent's peak (exec keeps the mark).
Helpers shared with the other benchmarks: :mod:`lgvit_tools.benchmarking`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch

MODELS = ("divided", "joint")
CLI = Path(__file__).resolve().parents[1] / "benchmark_video.py"


def build(kind: str, backbone: str, num_classes: int, num_frames: int) -> torch.nn.Module:
    import lgvit
    from video.models import VideoTransformer

    if kind not in MODELS:
        raise ValueError(f"unknown model kind {kind!r}; choose from {MODELS}")
    image = lgvit.create_model(backbone, num_classes=num_classes)
    return VideoTransformer(image, num_frames=num_frames, space_time=kind)


def measure(
    kind: str, backbone: str, batch: int, frames: int, size: int, steps: int, device: str
) -> dict[str, Any]:
    """Times ``steps`` training steps (forward, backward, AdamW) after one warm-up step."""
    from lgvit.flops import count_params

    from .benchmarking import current_rss_bytes, step_peak_rss_bytes

    torch.manual_seed(0)
    dev = torch.device(device)
    model = build(kind, backbone, 400, frames).to(dev).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    x = torch.randn(batch, 3, frames, size, size, device=dev)
    y = torch.randint(0, 400, (batch,), device=dev)

    def step() -> None:
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    base_rss = current_rss_bytes()
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    step()  # warm-up (allocator, kernels); its memory counts as peak too
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    dt = time.perf_counter() - t0
    if dev.type == "cuda":
        peak = torch.cuda.max_memory_allocated(dev)
    else:
        peak = step_peak_rss_bytes(base_rss) - base_rss
    return {
        "model": kind,
        "params_m": count_params(model) / 1e6,
        "clips_per_s": batch * steps / dt,
        "peak_mem_mb": peak / 2**20,
        "device": device,
    }


def run_all(
    backbone: str, batch: int, frames: int, size: int, steps: int, device: str
) -> list[dict[str, Any]]:
    rows = []
    for kind in MODELS:
        cmd = [
            sys.executable,
            str(CLI),
            "--worker",
            kind,
            "--backbone",
            backbone,
            "--batch",
            str(batch),
            "--frames",
            str(frames),
            "--size",
            str(size),
            "--steps",
            str(steps),
            "--device",
            device,
        ]
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode:
            raise RuntimeError(f"benchmark of {kind} failed:\n{out.stderr[-3000:]}")
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return rows


def report(rows: list[dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [
        f"video {args.backbone}, {args.batch} x {args.frames}x{args.size}x{args.size} clips, "
        f"{args.steps} training steps on {args.device}",
        f"{'attention':<12}{'params (M)':>12}{'clips/s':>10}{'peak train mem (MiB)':>22}",
    ]
    for r in rows:
        lines.append(
            f"{r['model']:<12}{r['params_m']:>12.2f}{r['clips_per_s']:>10.3f}{r['peak_mem_mb']:>22.0f}"
        )
    d, j = rows
    lines.append(
        f"divided / joint: speed x{d['clips_per_s'] / j['clips_per_s']:.2f}, "
        f"memory x{d['peak_mem_mb'] / max(j['peak_mem_mb'], 1e-9):.2f}"
    )
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backbone", default="regionvit_s", help="lgvit image backbone (default regionvit_s)")
    p.add_argument("--batch", type=int, default=1, help="clips per training step (default 1)")
    p.add_argument("--frames", type=int, default=8, help="frames per clip T (default 8)")
    p.add_argument(
        "--size", type=int, default=224, help="frame side in pixels (default 224; smaller is faster on CPU)"
    )
    p.add_argument("--steps", type=int, default=2, help="timed training steps after one warm-up (default 2)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", help="cpu or cuda")
    p.add_argument("--json", metavar="FILE", help="also write the measurements to FILE")
    p.add_argument("--worker", choices=MODELS, help=argparse.SUPPRESS)  # internal: measure one model
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.worker:
        print(
            json.dumps(
                measure(
                    args.worker, args.backbone, args.batch, args.frames, args.size, args.steps, args.device
                )
            )
        )
        return 0
    rows = run_all(args.backbone, args.batch, args.frames, args.size, args.steps, args.device)
    print(report(rows, args))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
