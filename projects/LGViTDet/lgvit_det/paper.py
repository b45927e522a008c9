"""Reference numbers from the RegionViT paper (``shared/papers/regionvit.txt``): Table 5 / A2 / A3
(COCO val2017 detection) and Table A4 (person keypoints). Params in M, FLOPs in G.

``ap`` holds (1x, 3x) box AP for RetinaNet, (1x AP^b, 1x AP^m, 3x AP^b, 3x AP^m) for Mask R-CNN and
(bbox AP, keypoint AP) for Keypoint R-CNN (schedule not stated in the paper).
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["PAPER", "PaperEntry", "VARIANTS"]


class PaperEntry(NamedTuple):
    params_m: float
    gflops: float
    ap: tuple[float, ...]


# config suffix -> lgvit model name (RegionViT-S+ is the window-14 "_w14" variant, Table 5 "+")
VARIANTS = {
    "s": "regionvit_s",
    "s_w14": "regionvit_s_w14",
    "s_w14_peg": "regionvit_s_w14_peg",
    "b": "regionvit_b",
    "b_w14": "regionvit_b_w14",
    "b_w14_peg": "regionvit_b_w14_peg",
}

PAPER: dict[tuple[str, str], PaperEntry] = {
    ("retinanet", "s"): PaperEntry(40.8, 192.6, (42.2, 45.8)),
    ("retinanet", "s_w14"): PaperEntry(41.5, 204.2, (43.1, 46.9)),
    ("retinanet", "s_w14_peg"): PaperEntry(41.6, 204.3, (43.9, 46.7)),
    ("retinanet", "b"): PaperEntry(83.4, 308.9, (43.3, 46.1)),
    ("retinanet", "b_w14"): PaperEntry(84.4, 328.1, (44.2, 46.9)),
    ("retinanet", "b_w14_peg"): PaperEntry(84.5, 328.2, (44.6, 46.9)),
    ("mask_rcnn", "s"): PaperEntry(50.1, 171.3, (42.5, 39.5, 46.3, 42.3)),
    ("mask_rcnn", "s_w14"): PaperEntry(50.9, 182.9, (43.5, 40.4, 47.3, 43.4)),
    ("mask_rcnn", "s_w14_peg"): PaperEntry(50.9, 183.0, (44.2, 40.8, 47.6, 43.4)),
    ("mask_rcnn", "b"): PaperEntry(92.2, 287.9, (43.5, 40.1, 47.2, 43.0)),
    ("mask_rcnn", "b_w14"): PaperEntry(93.2, 307.1, (44.5, 41.0, 48.1, 43.5)),
    ("mask_rcnn", "b_w14_peg"): PaperEntry(93.2, 307.2, (45.4, 41.6, 48.3, 43.5)),
    ("keypoint_rcnn", "s_w14_peg"): PaperEntry(65.7, 172.2, (56.0, 66.1)),
}
