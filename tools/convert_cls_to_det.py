#!/usr/bin/env python
"""Turns a classification checkpoint (ours, or a model family's official one, e.g. RegionViT's) into
detector weights for a detection config, checked against that config's backbone (the family's checkpoint
filter adapts it; missing/unexpected keys and shape mismatches are listed; a checkpoint of another
architecture is refused).

    python tools/convert_cls_to_det.py regionvit_s.pth regionvit_s_det.pth \\
        --config-file configs/COCO/mask_rcnn_regionvit_s_1x.py
    python projects/LGViTDet/train_net.py --config-file configs/COCO/mask_rcnn_regionvit_s_1x.py \\
        train.init_checkpoint=regionvit_s_det.pth        # also works with Detectron2's stock script

(``train_net.py`` also accepts the classification checkpoint directly as ``train.init_checkpoint``.)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "projects" / "LGViTDet"))  # uninstalled checkout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "input",
        help="classification checkpoint (.pth, .pt, .ckpt, .safetensors; any name): ours or the family's "
        "official "
        "format",
    )
    parser.add_argument("output", help="where to write the detector checkpoint (.pth)")
    parser.add_argument("--config-file", required=True, help="detection config whose backbone it is for")
    parser.add_argument("opts", nargs="*", help="config overrides key=value")
    args = parser.parse_intermixed_args(argv)

    from detectron2.config import instantiate
    from lgvit_det.checkpoint import save_detector_checkpoint
    from lgvit_det.engine import load_config
    from lgvit_engine.weights import read_weights_state_dict

    try:
        cfg = load_config(args.config_file, args.opts)
        with torch.device("meta"):  # only names and shapes are needed
            model = instantiate(cfg.model)
        report = save_detector_checkpoint(model, read_weights_state_dict(args.input), args.output)
    except (ValueError, FileNotFoundError) as e:  # CheckpointError and ConfigError are ValueErrors
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(
        f"wrote {args.output}: {len(report['loaded'])} backbone tensors; new in detection (trained from "
        f"scratch): {len(report['new'])}; dropped (classifier, final norm): "
        f"{', '.join(report['dropped']) or 'none'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
