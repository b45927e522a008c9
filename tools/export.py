"""Export an lgvit model to a torch.export program (.pt2), ONNX (checked in ONNX Runtime) or TorchScript,
and verify the artifact against the eager model.

    python tools/export.py regionvit_s --format onnx --output regionvit_s.onnx
    python tools/export.py salg_t --weights ckpt.pth --format torchscript --output salg_t.ts

The artifact is run against eager PyTorch at the export size and at two other sizes (one of them needs
the model's internal padding, 230x298; see ``lgvit.models.export`` for how each format is made). The
largest absolute difference per size is printed; the exit status is 1 when it exceeds ``--atol``, 2 for
bad arguments. Every format serves any batch and input size (``--static-hw``: .pt2/ONNX for the export
size only).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

# run from a checkout without installing: the repository root first on the path (never `import tools`)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

OTHER_SIZES = ((256, 256), (230, 298))  # a second size, and one that needs padding inside the model


def parse_size(text: str) -> tuple[int, int]:
    try:
        parts = [int(p) for p in text.lower().split("x")]
    except ValueError:
        parts = []
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2 or min(parts) < 1:
        raise argparse.ArgumentTypeError(f"size must be H or HxW with positive integers, got {text!r}")
    return parts[0], parts[1]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "model", help="a registered lgvit model name (python -c 'import lgvit; print(lgvit.list_models())')"
    )
    p.add_argument(
        "--weights",
        default=None,
        help="checkpoint to load (ours, a trainer's, or the family's official format); default: random init",
    )
    p.add_argument("--format", choices=("pt2", "onnx", "torchscript"), default="pt2", help="artifact format")
    p.add_argument("--output", required=True, help="path of the artifact to write (its folder must exist)")
    p.add_argument("--size", type=parse_size, default=(224, 224), help="export size, H or HxW (default 224)")
    p.add_argument("--batch", type=int, default=2, help="batch size of the example and checks (default 2)")
    p.add_argument("--num-classes", type=int, default=1000, help="classifier outputs (0: features only)")
    p.add_argument(
        "--static-hw",
        action="store_true",
        help="(.pt2/ONNX) export for the --size height and width only, any batch (faster to export); "
        "default: any batch, height and width",
    )
    p.add_argument("--atol", type=float, default=1e-4, help="largest difference accepted (default 1e-4)")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    import torch

    import lgvit
    from lgvit.models.export import export_model, verify_artifact

    if args.model not in lgvit.list_models():
        parser.error(f"unknown model {args.model!r}; known: {', '.join(lgvit.list_models())}")
    if args.weights is not None and not os.path.isfile(args.weights):
        parser.error(f"--weights {args.weights!r} is not a file")
    out_dir = os.path.dirname(os.path.abspath(args.output))
    if not os.path.isdir(out_dir):
        parser.error(f"--output folder {out_dir!r} does not exist")
    if args.batch < 1:
        parser.error(f"--batch must be >= 1, got {args.batch}")
    if args.num_classes < 0:
        parser.error(f"--num-classes must be >= 0, got {args.num_classes}")
    if min(args.size) < 32:
        parser.error(f"--size must be at least 32x32, got {args.size}")

    model = lgvit.create_model(args.model, num_classes=args.num_classes).eval()
    if args.weights:
        lgvit.checkpoint.load_pretrained(model, args.weights)
    example = torch.randn(args.batch, model.in_chans, *args.size)
    result = export_model(model, args.output, args.format, example, dynamic_hw=not args.static_hw)
    print(f"wrote {args.output} ({args.format}) in {result.seconds:.1f} s")
    sizes = [args.size] + ([s for s in OTHER_SIZES if s != args.size] if result.any_size else [])
    worst, failed = 0.0, []
    for size in sizes:
        try:
            worst = max(
                worst, verify_artifact(model, result, [size], batch=args.batch, in_chans=model.in_chans)
            )
        except RuntimeError as e:  # e.g. a runtime assert of the exported program at another size
            failed.append(size)
            print(f"  input {args.batch}x{model.in_chans}x{size[0]}x{size[1]}: the artifact fails: {e}")
    for shape, diff in result.checks:
        print(f"  input {'x'.join(map(str, shape))}: largest |artifact - eager| = {diff:.3e}")
    if not result.any_size:
        print(f"  (this {args.format} artifact serves any batch at {args.size[0]}x{args.size[1]} only)")
    print(f"largest difference {worst:.3e} (atol {args.atol:g})")
    return 0 if worst <= args.atol and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
