#!/usr/bin/env python
"""Export time and exported-artifact speed, one model per family, in one table.

For each ``--models`` entry (default: one per family, RegionViT-S, SALG-T, RSIR-T): the seconds to export a
``torch.export`` program (``.pt2``: capture with dynamic batch, height and width, save, load) and an ONNX
model (capture, ``torch.onnx``, save, ONNX Runtime session), the largest difference of each artifact to
eager at the export size, and the CPU latency of ONNX Runtime and of the loaded ``.pt2`` program against
eager PyTorch, measured side by side: within every round each runner does ``--iters`` calls on the same
batch, the order reversed every other round, and a ratio is the median of the per-round ratios (so it holds
on a shared machine; absolute times do not). Speed ratio > 1: the artifact is faster than eager. ONNX
Runtime runs with as many intra-op threads as torch (``--threads``).

    python tools/benchmark_export.py                                # the three families, 224, batch 1
    python tools/benchmark_export.py --models rsir_t --size 256 --batch 4 --rounds 9 --threads 2
    python tools/benchmark_export.py --out bench/                   # also bench/benchmark_export.{md,json}
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # lgvit_tools (it puts the checkout on the path)
import torch  # noqa: E402
from lgvit_tools.benchmarking import environment, interleaved_rounds  # noqa: E402

import lgvit  # noqa: E402
from lgvit.models.export import export_model  # noqa: E402

DEFAULT_MODELS = ("regionvit_s", "salg_t", "rsir_t")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS), help="registered lgvit model names")
    p.add_argument("--size", type=int, default=224, help="square input size of export and timing (224)")
    p.add_argument("--batch", type=int, default=1, help="batch of the timed calls (1)")
    p.add_argument("--rounds", type=int, default=7, help="interleaved timing rounds; ratios are medians (7)")
    p.add_argument("--iters", type=int, default=3, help="calls per runner per round (3)")
    p.add_argument("--threads", type=int, default=None, help="torch and ONNX Runtime threads (torch's)")
    p.add_argument("--out", default=None, help="folder for benchmark_export.md and .json (optional)")
    args = p.parse_args(argv)
    unknown = [m for m in args.models if m not in lgvit.list_models()]
    if unknown:
        p.error(f"unknown model(s) {unknown}; choose from {lgvit.list_models()}")
    for name in ("size", "batch", "rounds", "iters"):
        if getattr(args, name) < (32 if name == "size" else 1):
            p.error(f"--{name} must be at least {32 if name == 'size' else 1}, got {getattr(args, name)}")
    if args.threads is not None and args.threads < 1:
        p.error(f"--threads must be at least 1, got {args.threads}")
    if args.out is not None and not Path(args.out).parent.is_dir():
        p.error(f"--out: the folder {Path(args.out).parent} does not exist")
    return args


def measure(name: str, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    import onnxruntime as ort

    torch.manual_seed(0)
    model = lgvit.create_model(name).eval()
    x = torch.randn(args.batch, 3, args.size, args.size)
    example = torch.randn(2, 3, args.size, args.size)  # a batch of 2: the program is not specialised to 1
    pt2 = export_model(model, str(tmp / f"{name}.pt2"), "pt2", example)
    onnx = export_model(model, str(tmp / f"{name}.onnx"), "onnx", example)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = torch.get_num_threads()
    opts.inter_op_num_threads = 1
    session = ort.InferenceSession(onnx.path, opts, providers=["CPUExecutionProvider"])
    feed = {"x": x.numpy()}
    with torch.no_grad():
        want = model(x)
        diff_pt2 = (pt2.runner(x) - want).abs().max().item()
        diff_onnx = (torch.from_numpy(session.run(None, feed)[0]) - want).abs().max().item()

    def eager() -> None:
        with torch.no_grad():
            model(x)

    def program() -> None:
        with torch.no_grad():
            pt2.runner(x)

    fns = {"eager": eager, "pt2": program, "onnx": lambda: session.run(None, feed)}
    for fn in fns.values():  # warm-up
        fn()
    rounds = interleaved_rounds(fns, args.rounds, args.iters)

    def speed(artifact: str) -> float:  # eager time / artifact time: > 1 is the artifact faster
        return statistics.median(r["eager"] / r[artifact] for r in rounds)

    return dict(
        model=name,
        export_pt2_s=pt2.seconds,
        export_onnx_s=onnx.seconds,
        diff_pt2=diff_pt2,
        diff_onnx=diff_onnx,
        eager_ms=1e3 * statistics.median(r["eager"] for r in rounds),
        ort_speed=speed("onnx"),
        pt2_speed=speed("pt2"),
    )


def to_markdown(header: dict[str, Any], rows: list[dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [
        f"torch {header['torch']}, onnxruntime {header['onnxruntime']}, {header['device']} "
        f"({header['device_name']}), {header['threads']} threads (torch and ONNX Runtime), load average "
        f"{' '.join(map(str, header['load_average']))}; input {args.batch}x3x{args.size}x{args.size}, "
        f"{args.rounds} interleaved rounds "
        f"of {args.iters} calls, median per-round ratios",
        "",
        "| model | export .pt2 (s) | export ONNX (s) | max diff .pt2 / ONNX | eager (ms) "
        "| ONNX Runtime vs eager | .pt2 vs eager |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['export_pt2_s']:.1f} | {r['export_onnx_s']:.1f} "
            f"| {r['diff_pt2']:.1e} / {r['diff_onnx']:.1e} | {r['eager_ms']:.1f} "
            f"| {r['ort_speed']:.2f}x | {r['pt2_speed']:.2f}x |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        import onnxruntime
    except ImportError:
        print("error: needs the export extra: pip install 'lgvit[export]'", file=sys.stderr)
        return 2
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    header = environment("cpu", torch.get_num_threads())
    header["onnxruntime"] = onnxruntime.__version__
    print(f"threads {header['threads']}, device cpu ({header['device_name']})", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            t = time.perf_counter()
            rows.append(measure(name, args, Path(tmp)))
            print(f"{name}: done in {time.perf_counter() - t:.0f} s", flush=True)
    table = to_markdown(header, rows, args)
    print(table)
    if args.out:
        import json

        out = Path(args.out)
        out.mkdir(exist_ok=True)
        (out / "benchmark_export.md").write_text(table)
        (out / "benchmark_export.json").write_text(json.dumps(dict(header=header, rows=rows), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
