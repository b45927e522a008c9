#!/usr/bin/env python
"""Writes PNGs of a detector's predictions (boxes, class names and scores, masks, keypoints) drawn with
Detectron2's ``Visualizer``.

    python tools/visualize_detections.py --config-file configs/shapes/mask_rcnn_regionvit_tiny_shapes.py \\
        --weights output/mask_rcnn_regionvit_tiny_shapes/model_final.pth --input img1.png imgdir/ \\
        --output output/vis
    # or the first images of the config's test dataset:
    python tools/visualize_detections.py --config-file ... --weights ... --num-images 4 --output output/vis

Class names (and keypoint names/skeleton) come from the config's test dataset metadata.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "projects" / "LGViTDet"))  # uninstalled checkout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config-file", required=True)
    parser.add_argument("--weights", required=True, help="detector checkpoint (e.g. model_final.pth)")
    parser.add_argument(
        "--input", nargs="*", default=[], help="image files or directories (default: test set)"
    )
    parser.add_argument("--num-images", type=int, default=4, help="without --input: this many test images")
    parser.add_argument("--output", default="output/vis", help="directory for the PNGs")
    parser.add_argument("--score-thresh", type=float, default=0.5)
    parser.add_argument("opts", nargs="*", help="config overrides key=value")
    args = parser.parse_intermixed_args(argv)

    from detectron2.data import MetadataCatalog
    from lgvit_det.datasets import ensure_dataset
    from lgvit_det.engine import TASK, build_model, load_config
    from lgvit_det.visualize import IMAGE_SUFFIXES, LazyPredictor, visualize_files
    from lgvit_engine import USER_ERRORS

    try:
        cfg = load_config(args.config_file, args.opts)
        if not Path(args.weights).exists():
            raise FileNotFoundError(
                f"--weights {args.weights} does not exist (train first: projects/LGViTDet/train_net.py)"
            )
        model = build_model(cfg)
        # the runtime's checked loader: weights that leave parts of this detector random are refused
        TASK.load_eval_weights(model, args.weights, argparse.Namespace(eval_allow_missing=False), cfg)
    except USER_ERRORS as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    dataset = cfg.dataloader.test.dataset.names
    ensure_dataset(dataset)
    inputs = args.input
    if not inputs:
        root = Path(MetadataCatalog.get(dataset).image_root)
        inputs = sorted(f for f in root.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)[: args.num_images]
    resize = cfg.dataloader.test.mapper.augmentations[0]
    predictor = LazyPredictor(model, resize.short_edge_length, resize.max_size, cfg.model.input_format)
    skipped: list = []
    try:
        written = visualize_files(predictor, inputs, args.output, dataset, args.score_thresh, skipped)
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    for path, reason in skipped:
        print(f"skipped {path}: {reason}", file=sys.stderr)
    if skipped:
        print(f"{len(written)} written, {len(skipped)} unreadable image(s) skipped", file=sys.stderr)
    return 0 if written else 1


if __name__ == "__main__":
    sys.exit(main())
