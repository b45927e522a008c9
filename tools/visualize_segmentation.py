#!/usr/bin/env python
"""Draws semantic-segmentation predictions as colour-overlay PNGs (image | overlay with class names).

    python tools/visualize_segmentation.py \
        --config-file configs/segmentation/semantic_fpn_regionvit_tiny_shapes.py \
        --weights output/semantic_fpn_regionvit_tiny_shapes/model_final.pth --output output/seg_png
    python tools/visualize_segmentation.py --config-file ... --weights ... --input img1.jpg dir/ --output out/

Without ``--input`` the first ``--num-images`` images of the config's test dataset are drawn. Class names
and colours come from the test dataset's metadata (``--dataset`` to use another's).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # lgvit_tools (it puts the checkout on the path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config-file", required=True)
    parser.add_argument("--weights", default=None, help="default: train.output_dir/model_final.pth")
    parser.add_argument("--input", nargs="*", default=None, help="image files or directories")
    parser.add_argument("--output", required=True, help="directory for the PNGs")
    parser.add_argument("--num-images", type=int, default=4)
    parser.add_argument(
        "--dataset", default=None, help="metadata for class names/colours (default: test set)"
    )
    parser.add_argument("opts", nargs="*", default=[], help="key=value config overrides")
    args = parser.parse_args(argv)

    from detectron2.data import DatasetCatalog
    from lgvit_det.engine import load_config
    from lgvit_det.visualize import IMAGE_SUFFIXES
    from lgvit_tools.seg_demo import _predictor, load_final, visualize_seg_files

    cfg = load_config(args.config_file, args.opts)
    dataset = args.dataset or cfg.dataloader.test.dataset.names
    if args.input:
        files = []
        for p in map(Path, args.input):
            if p.is_dir():
                files += sorted(f for f in p.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
            elif p.is_file():
                files.append(p)
            else:
                parser.error(f"--input {p} does not exist")
    else:
        files = [d["file_name"] for d in DatasetCatalog.get(dataset)][: args.num_images]
    pngs = visualize_seg_files(_predictor(cfg, load_final(cfg, args.weights)), files, args.output, dataset)
    for p in pngs:
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
