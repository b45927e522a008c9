"""The README's main job: builds every registered lgvit model, runs it on an embedded default input
and prints a table (parameters vs the paper, GFLOPs, output shapes, time), then trains a tiny RegionViT
on real handwritten digits and runs the video and detection demos.

Run through ``bash tools/demo.sh`` (which creates .venv on first use).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import lgvit  # noqa: E402
from lgvit.flops import count_params  # noqa: E402
from lgvit.reference import IMAGENET  # noqa: E402


def default_image(size: tuple[int, int] = (224, 224)) -> torch.Tensor:
    """A deterministic embedded input: smooth colour gradients plus a few shapes, ImageNet-normalised."""
    h, w = size
    yy, xx = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing="ij")
    img = torch.stack((xx, yy, 0.5 * (1 - xx) + 0.5 * yy))
    img[:, h // 4 : h // 2, w // 4 : w // 2] = torch.tensor([0.9, 0.1, 0.1])[:, None, None]
    disc = ((yy - 0.7) ** 2 + (xx - 0.7) ** 2) < 0.02
    img[:, disc] = torch.tensor([0.1, 0.2, 0.9])[:, None]
    mean = torch.tensor([0.485, 0.456, 0.406])[:, None, None]
    std = torch.tensor([0.229, 0.224, 0.225])[:, None, None]
    return ((img - mean) / std).unsqueeze(0)


def model_table(names: list[str]) -> None:
    x = default_image()
    print(f"{'model':<22}{'params (M)':>12}{'paper':>8}{'logits':>14}{'pyramid (stride 4..32)':>44}{'ms':>8}")
    for name in names:
        torch.manual_seed(0)
        model = lgvit.create_model(name).eval()
        with torch.inference_mode():
            t0 = time.perf_counter()
            logits = model(x)
            ms = 1000 * (time.perf_counter() - t0)
            pyramid = model.forward_pyramid(x)
        shapes = " ".join("x".join(map(str, f.shape[1:])) for f in pyramid)
        paper = IMAGENET[name].params_m if name in IMAGENET else None
        print(
            f"{name:<22}{count_params(model) / 1e6:>12.2f}{paper if paper else '-':>8}"
            f"{str(tuple(logits.shape)):>14}{shapes:>44}{ms:>8.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", default="*", help="shell pattern of model names to run (default: all)")
    # -- video section (owned by the video package) --
    parser.add_argument(
        "--skip-video",
        action="store_true",
        help="skip the video run (generates motion videos, trains a tiny divided space-time RegionViT ~2 min "
        "on CPU, 3-crop test)",
    )
    parser.add_argument("--video-out", default="output/video_demo", help="the video run's data and outputs")
    # -- detection section (owned by projects/LGViTDet) --
    parser.add_argument(
        "--skip-detection",
        action="store_true",
        help="skip the detection run (trains a tiny RegionViT Mask R-CNN and Keypoint R-CNN ~3 min on CPU on "
        "generated shapes, COCO evaluation, prediction PNGs)",
    )
    parser.add_argument("--det-out", default="output/demo_detection", help="the detection run's outputs")
    # -- segmentation section (owned by projects/LGViTDet) --
    parser.add_argument(
        "--skip-segmentation",
        action="store_true",
        help="skip the segmentation run (trains a tiny RegionViT Semantic FPN and UperNet ~4 min on CPU on "
        "generated label maps, mIoU vs untrained, colour-overlay PNGs)",
    )
    parser.add_argument(
        "--seg-out", default="output/demo_segmentation", help="the segmentation run's outputs"
    )
    # -- classification section (lgvit_cls) --
    parser.add_argument(
        "--skip-classification",
        action="store_true",
        help="skip the classification run (exports scikit-learn's real UCI handwritten digits, trains a tiny "
        "RegionViT ~1 min on CPU, prints the held-out top-1)",
    )
    parser.add_argument(
        "--cls-out", default="output/demo_classification", help="the classification run's data and outputs"
    )
    args = parser.parse_args()
    names = lgvit.list_models(args.models)
    if not names:
        parser.error(f"no model matches {args.models!r}; known: {', '.join(lgvit.list_models())}")
    print(f"== lgvit {lgvit.__version__}: every registered model on the embedded 224x224 input ==")
    model_table(names)
    if not args.skip_classification:  # -- classification section: see README.md, "Classification" --
        from lgvit_cls.demo import run_demo as run_classification_demo

        run_classification_demo(args.cls_out)
    if not args.skip_video:  # -- video section: see video/README.md --
        from video.demo import run_demo

        run_demo(args.video_out)
    if not args.skip_detection:  # -- detection section: see projects/LGViTDet/README.md --
        from lgvit_det.demo import run_demo as run_detection_demo

        print("== detection: tiny RegionViT Mask R-CNN + Keypoint R-CNN on generated shapes (CPU) ==")
        run_detection_demo(args.det_out)
    if not args.skip_segmentation:  # -- segmentation section: see projects/LGViTDet/SEGMENTATION.md --
        from lgvit_det.seg_demo import run_seg_demo

        print("== segmentation: tiny RegionViT Semantic FPN + UperNet on generated label maps (CPU) ==")
        run_seg_demo(args.seg_out)


if __name__ == "__main__":
    main()
