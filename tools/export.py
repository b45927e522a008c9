"""Export an lgvit model to a torch.export program (.pt2), ONNX (checked in ONNX Runtime) or TorchScript,
or a Detectron2 detector with an lgvit backbone (a config plus its weights) to TorchScript or ONNX, and
verify the artifact against the eager model.

    python tools/export.py regionvit_s --format onnx --output regionvit_s.onnx
    python tools/export.py salg_t --weights ckpt.pth --format torchscript --output salg_t.ts
    python tools/export.py regionvit_s --video-frames 8 --num-classes 400 \
        --weights output/video/model_final.safetensors --output regionvit_s_k400.pt2
    python tools/export.py configs/COCO/mask_rcnn_regionvit_s_1x.py --weights model_final.pth \
        --output mask_rcnn.ts
    python tools/export.py --config-file configs/shapes/retinanet_regionvit_tiny_shapes.py --format onnx \
        --output retinanet.onnx --score-thresh 0.01

The first argument is a registered model name, or a detector config (a path ending in .py; or give it as
--config-file). The artifact is run against eager PyTorch at the export size and at two other sizes (one
of them needs padding: 230x298 for models, 301x437 for detectors; see ``lgvit.models.export`` and
``lgvit_det.export`` for how each format is made). The largest absolute difference per size is printed;
the exit status is 1 when the artifact and eager differ by more than the tolerance, 2 for bad arguments.
Every format serves any batch and input size (``--static-hw``: .pt2/ONNX for the export size only);
detectors take one image of any size (Detectron2's tracing route).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

# run from a checkout without installing: the repository root first on the path (never `import tools`)
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OTHER_SIZES = ((256, 256), (230, 298))  # a second size, and one that needs padding inside the model
DET_SIZE = (320, 480)  # a detector's default export size
DET_OTHER_SIZES = ((480, 320), (301, 437))  # 301x437: padded to 320x448 (divisible by 32) and inside
CONFIG_SUFFIXES = (".py", ".yaml")
WARMUP = 3  # untimed runs before --time-runs
# flags that only a model name takes, with their defaults
MODEL_ONLY = {"batch": 2, "num_classes": 1000, "static_hw": False, "video_frames": 0}
DETECTOR_ONLY = {
    "score_thresh": None,
    "check_size": None,
    "time_runs": None,
}  # flags that only a detector config takes


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
        "model",
        nargs="?",
        help="a registered lgvit model name (python -c 'import lgvit; print(lgvit.list_models())'), or a "
        "Detectron2 detector config (a path ending in .py, e.g. configs/COCO/mask_rcnn_regionvit_s_1x.py)",
    )
    p.add_argument(
        "--config-file",
        default=None,
        help="a Detectron2 detector config (lazy .py config with an lgvit backbone), instead of a model name",
    )
    p.add_argument(
        "--weights",
        default=None,
        help="model: checkpoint to load (ours, a trainer's, or the family's official format); detector: its "
        "trained weights (model_final.pth / .safetensors), checked key by key against the config's "
        "detector; default: random init",
    )
    p.add_argument(
        "--format",
        choices=("pt2", "onnx", "torchscript"),
        default=None,
        help="artifact format (default: pt2 for a model, torchscript for a detector; detectors export to "
        "torchscript or onnx, Keypoint R-CNN to torchscript only)",
    )
    p.add_argument("--output", required=True, help="path of the artifact to write (its folder must exist)")
    p.add_argument(
        "--size",
        type=parse_size,
        default=None,
        help=f"export size, H or HxW (default: 224 for a model, {DET_SIZE[0]}x{DET_SIZE[1]} for a detector)",
    )
    p.add_argument(
        "--batch", type=int, default=None, help="model: batch size of the example and checks (default 2)"
    )
    p.add_argument(
        "--num-classes",
        type=int,
        default=None,
        help="model: classifier outputs (0: features only; default 1000)",
    )
    p.add_argument(
        "--static-hw",
        action="store_true",
        default=None,
        help="model (.pt2/ONNX): export for the --size height and width only, any batch (faster to export); "
        "default: any batch, height and width",
    )
    p.add_argument(
        "--video-frames",
        type=int,
        default=None,
        help="model: export the divided space-time video model on this backbone (what video/train.py "
        "trains) for clips of this many frames, input (B, 3, T, H, W); .pt2 or onnx; --weights then takes "
        "the video run's weights (default: an image model)",
    )
    p.add_argument(
        "--score-thresh",
        type=float,
        default=None,
        help="detector: test-time score threshold written into the artifact (default: the config's); lower "
        "it to have detections to compare with untrained weights",
    )
    p.add_argument(
        "--check-size",
        type=parse_size,
        action="append",
        default=None,
        help="detector: a size to verify besides the export size, H or HxW; repeat it for several (default: "
        + " and ".join(f"{h}x{w}" for h, w in DET_OTHER_SIZES)
        + ")",
    )
    p.add_argument(
        "--time-runs",
        type=int,
        default=None,
        help="detector: also time N runs of the artifact and of eager PyTorch at the export size, "
        "interleaved, and print the medians and their ratio (default: no timing)",
    )
    p.add_argument(
        "--atol", type=float, default=1e-4, help="largest absolute difference accepted (default 1e-4)"
    )
    p.add_argument(
        "--rtol",
        type=float,
        default=1e-5,
        help="detector: relative tolerance added to --atol (outputs are pixel coordinates; default 1e-5)",
    )
    return p


def is_config(name: str) -> bool:
    return name.lower().endswith(CONFIG_SUFFIXES)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.model is not None and args.config_file is not None:
        parser.error(
            f"give a model name or --config-file, not both (got {args.model!r} and {args.config_file!r})"
        )
    if args.model is None and args.config_file is None:
        parser.error("give a registered model name or a detector config (a .py path, or --config-file)")
    config = args.config_file or (args.model if is_config(args.model) else None)
    if args.weights is not None and not os.path.exists(args.weights):
        parser.error(f"--weights {args.weights!r} is not a file")
    out_dir = os.path.dirname(os.path.abspath(args.output))
    if not os.path.isdir(out_dir):
        parser.error(f"--output folder {out_dir!r} does not exist")
    if args.time_runs is not None and args.time_runs < 1:
        parser.error(f"--time-runs must be >= 1, got {args.time_runs}")
    if args.size is not None and min(args.size) < 32:
        parser.error(f"--size must be at least 32x32, got {args.size}")
    own, other = (DETECTOR_ONLY, MODEL_ONLY) if config else (MODEL_ONLY, DETECTOR_ONLY)
    wrong = ["--" + k.replace("_", "-") for k in other if getattr(args, k) is not None]
    if wrong:
        what = "a model name" if config else "a detector config"
        parser.error(f"{', '.join(wrong)} only apply to {what}")
    if config:
        return export_detector_config(parser, args, config)
    for k, v in MODEL_ONLY.items():
        setattr(args, k, v if getattr(args, k) is None else getattr(args, k))
    args.format = args.format or "pt2"
    args.size = args.size or (224, 224)
    return export_model_name(parser, args)


def export_model_name(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    import torch

    import lgvit
    from lgvit.models.export import export_model, verify_artifact

    if args.model not in lgvit.list_models():
        parser.error(
            f"unknown model {args.model!r}; known: {', '.join(lgvit.list_models())} "
            f"(a detector config is a path ending in {' or '.join(CONFIG_SUFFIXES)})"
        )
    if args.weights is not None and not os.path.isfile(args.weights):
        parser.error(f"--weights {args.weights!r} is not a file")
    if args.batch < 1:
        parser.error(f"--batch must be >= 1, got {args.batch}")
    if args.num_classes < 0:
        parser.error(f"--num-classes must be >= 0, got {args.num_classes}")
    if args.video_frames < 0:
        parser.error(f"--video-frames must be >= 1, got {args.video_frames}")
    if args.video_frames:
        model, in_chans = video_model(parser, args), 3
        frames = (args.video_frames,)
    else:
        model = lgvit.create_model(args.model, num_classes=args.num_classes).eval()
        if args.weights:
            lgvit.checkpoint.load_pretrained(model, args.weights)
        in_chans, frames = model.in_chans, ()
    example = torch.randn(args.batch, in_chans, *frames, *args.size)
    result = export_model(model, args.output, args.format, example, dynamic_hw=not args.static_hw)
    print(f"wrote {args.output} ({args.format}) in {result.seconds:.1f} s")
    sizes = [args.size] + ([s for s in OTHER_SIZES if s != args.size] if result.any_size else [])
    worst, failed = 0.0, []
    for size in sizes:
        try:
            frames_arg = args.video_frames or None
            diff = verify_artifact(model, result, [size], args.batch, in_chans, num_frames=frames_arg)
            worst = max(worst, diff)
        except RuntimeError as e:  # e.g. a runtime assert of the exported program at another size
            failed.append(size)
            shape = "x".join(map(str, (args.batch, in_chans, *frames, *size)))
            print(f"  input {shape}: the artifact fails: {e}")
    for shape, diff in result.checks:
        print(f"  input {'x'.join(map(str, shape))}: largest |artifact - eager| = {diff:.3e}")
    if not result.any_size:
        print(f"  (this {args.format} artifact serves any batch at {args.size[0]}x{args.size[1]} only)")
    print(f"largest difference {worst:.3e} (atol {args.atol:g})")
    return 0 if worst <= args.atol and not failed else 1


def video_model(parser: argparse.ArgumentParser, args: argparse.Namespace):
    """The divided space-time video model on ``args.model`` (eval mode), with the video run's weights
    (checked key by key: every weight of the model must be in the file with its shape)."""
    if args.format == "torchscript":
        parser.error("a video model exports to pt2 or onnx (--format); TorchScript is for image models")
    sys.path.insert(0, str(ROOT / "projects" / "LGViTEngine"))
    from lgvit_engine.weights import load_weights, read_weights_state_dict

    from lgvit.checkpoint import CheckpointError
    from video.models import build_video_model

    model = build_video_model(
        args.model, num_classes=args.num_classes, num_frames=args.video_frames, drop_path_rate=0.0
    )
    if args.weights:
        try:
            state = read_weights_state_dict(args.weights)
            if not any(k.startswith("backbone.") for k in state):
                raise CheckpointError(
                    f"{args.weights} holds image weights, not a video model's (keys start with "
                    "'backbone.'): export the image model without --video-frames, or give video/train.py's "
                    "model_final weights"
                )
            load_weights(model, state)
        except CheckpointError as e:
            parser.error(str(e))
    return model.eval()


def torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def time_detector(model, artifact, size: tuple[int, int], runs: int) -> tuple[float, float]:
    """Median seconds of eager and artifact inference on one image, ``runs`` interleaved runs each, after
    ``WARMUP`` runs of both (TorchScript's profiling executor optimises the graph on its second run)."""
    import statistics
    import time

    import torch
    from lgvit_det.export import detector_outputs, example_image

    x = example_image(size, len(model.pixel_mean))
    eager, exported = [], []
    with torch.no_grad():
        for i in range(runs + WARMUP):
            t0 = time.perf_counter()
            detector_outputs(model, [{"image": x}])
            t1 = time.perf_counter()
            artifact.runner(x)
            t2 = time.perf_counter()
            if i >= WARMUP:
                eager.append(t1 - t0)
                exported.append(t2 - t1)
    return statistics.median(eager), statistics.median(exported)


def export_detector_config(parser: argparse.ArgumentParser, args: argparse.Namespace, config: str) -> int:
    if not os.path.isfile(config):
        parser.error(f"config file {config!r} does not exist")
    if not config.endswith(".py"):
        parser.error(f"{config!r}: detectors are described by lazy .py configs (configs/COCO/*.py)")
    fmt = args.format or "torchscript"
    if fmt == "pt2":
        parser.error(
            "a detector exports through Detectron2's tracing route: --format torchscript or onnx (pt2 is "
            "for model names)"
        )
    if fmt == "onnx" and importlib.util.find_spec("onnxruntime") is None:
        parser.error("--format onnx needs onnx and onnxruntime: pip install 'lgvit[export]'")
    from lgvit.checkpoint import CheckpointError

    sys.path.insert(0, str(ROOT / "projects" / "LGViTDet"))
    sys.path.insert(0, str(ROOT / "projects" / "LGViTEngine"))
    from lgvit_det.export import ExportArgumentError, export_from_config, meta_architecture
    from lgvit_engine import ConfigError

    size = args.size or DET_SIZE
    others = [s for s in (args.check_size or DET_OTHER_SIZES) if s != size]
    if any(min(s) < 32 for s in others):
        parser.error(f"--check-size must be at least 32x32, got {others}")
    try:
        model, artifact = export_from_config(
            config, args.weights, args.output, fmt, size, others, args.score_thresh, args.atol, args.rtol
        )
    except (ExportArgumentError, CheckpointError, ConfigError) as e:
        parser.error(str(e))
    print(f"wrote {args.output} ({meta_architecture(model)}, {fmt}) in {artifact.seconds:.1f} s")
    checks = artifact.checks
    for c in checks:
        fields = ", ".join(f"{k} {v:.3e}" for k, v in c.diffs.items())
        print(
            f"  image 3x{c.size[0]}x{c.size[1]}: {c.detections[0]} detections (artifact {c.detections[1]}); "
            f"largest |artifact - eager|: {fields}{'' if c.ok else '  MISMATCH'}"
        )
    if any(c.detections[0] == 0 for c in checks):
        print("  warning: no detections at some size, so nothing was compared there; lower --score-thresh")
    worst = max(c.largest for c in checks)
    print(f"largest difference {worst:.3e} (atol {args.atol:g}, rtol {args.rtol:g})")
    if args.time_runs:
        eager_s, artifact_s = time_detector(model, artifact, size, args.time_runs)
        print(
            f"latency at {size[0]}x{size[1]}, median of {args.time_runs} interleaved runs "
            f"({torch_threads()} threads): eager {eager_s * 1e3:.1f} ms, {fmt} {artifact_s * 1e3:.1f} ms, "
            f"ratio {artifact_s / eager_s:.2f}"
        )
    return 0 if all(c.ok for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
