"""Reference numbers from the papers, keyed by lgvit model name, for tools and reports.

(Tests keep their own independent copies, so a typo here cannot make a check pass.) Params in M, FLOPs
in G (fvcore convention: one multiply-add = one FLOP).
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "DETECTION",
    "DETECTION_PAPER",
    "DETECTION_VARIANTS",
    "IMAGENET",
    "SEGMENTATION",
    "VIDEO",
    "DetectionEntry",
    "ImageNetEntry",
    "SegmentationEntry",
    "paper_imagenet",
]


class ImageNetEntry(NamedTuple):
    params_m: float
    gflops: float | None  # at 224x224
    source: str


class DetectionEntry(NamedTuple):
    params_m: float
    gflops: float | None
    ap: tuple[float, ...]
    source: str


# ImageNet classifiers ("+" = window 14 in RegionViT Table 3).
IMAGENET: dict[str, ImageNetEntry] = {
    "regionvit_ti": ImageNetEntry(13.8, 2.4, "RegionViT Table 3"),
    "regionvit_s": ImageNetEntry(30.6, 5.3, "RegionViT Table 3"),
    "regionvit_m": ImageNetEntry(41.2, 7.4, "RegionViT Table 3"),
    "regionvit_b": ImageNetEntry(72.7, 13.0, "RegionViT Table 3"),
    "regionvit_ti_w14": ImageNetEntry(14.3, 2.7, "RegionViT Table 3"),
    "regionvit_s_w14": ImageNetEntry(31.3, 5.7, "RegionViT Table 3"),
    "regionvit_m_w14": ImageNetEntry(42.0, 7.9, "RegionViT Table 3"),
    "regionvit_b_w14": ImageNetEntry(73.8, 13.6, "RegionViT Table 3"),
    # RSIR Tables 2-3. The stated RSIR-B configuration gives ~61M, not 85M (lgvit/models/README.md)
    "rsir_t": ImageNetEntry(22.0, 5.0, "RSIR Tables 2, 3"),
    "rsir_b": ImageNetEntry(85.0, 16.3, "RSIR Tables 2, 3"),
    # SALG: the paper gives no FLOPs. AP propagation in Table I, MSA in Table IV.
    "salg_st": ImageNetEntry(6.5, None, "SALG Tables I, IV"),
    "salg_t": ImageNetEntry(32.2, None, "SALG Tables I, IV"),
    "salg_s": ImageNetEntry(53.0, None, "SALG Table I"),
    "salg_st_msa": ImageNetEntry(7.1, None, "SALG Table IV"),
    "salg_t_msa": ImageNetEntry(42.4, None, "SALG Table IV"),
}

# COCO detectors, keyed by (detector, backbone model name). ``ap``: RetinaNet (1x, 3x) box AP; Mask R-CNN
# (1x AP^b, 1x AP^m, 3x AP^b, 3x AP^m); Keypoint R-CNN (bbox AP, keypoint AP). FLOPs at 1120x672.
_T5 = "RegionViT Table 5"
DETECTION: dict[tuple[str, str], DetectionEntry] = {
    ("retinanet", "regionvit_s"): DetectionEntry(40.8, 192.6, (42.2, 45.8), _T5),
    ("retinanet", "regionvit_s_w14"): DetectionEntry(41.5, 204.2, (43.1, 46.9), _T5),
    ("retinanet", "regionvit_s_w14_peg"): DetectionEntry(41.6, 204.3, (43.9, 46.7), _T5),
    ("retinanet", "regionvit_b"): DetectionEntry(83.4, 308.9, (43.3, 46.1), _T5),
    ("retinanet", "regionvit_b_w14"): DetectionEntry(84.4, 328.1, (44.2, 46.9), _T5),
    ("retinanet", "regionvit_b_w14_peg"): DetectionEntry(84.5, 328.2, (44.6, 46.9), _T5),
    ("mask_rcnn", "regionvit_s"): DetectionEntry(50.1, 171.3, (42.5, 39.5, 46.3, 42.3), _T5),
    ("mask_rcnn", "regionvit_s_w14"): DetectionEntry(50.9, 182.9, (43.5, 40.4, 47.3, 43.4), _T5),
    ("mask_rcnn", "regionvit_s_w14_peg"): DetectionEntry(50.9, 183.0, (44.2, 40.8, 47.6, 43.4), _T5),
    ("mask_rcnn", "regionvit_b"): DetectionEntry(92.2, 287.9, (43.5, 40.1, 47.2, 43.0), _T5),
    ("mask_rcnn", "regionvit_b_w14"): DetectionEntry(93.2, 307.1, (44.5, 41.0, 48.1, 43.5), _T5),
    ("mask_rcnn", "regionvit_b_w14_peg"): DetectionEntry(93.2, 307.2, (45.4, 41.6, 48.3, 43.5), _T5),
    ("keypoint_rcnn", "regionvit_s_w14_peg"): DetectionEntry(65.7, 172.2, (56.0, 66.1), "RegionViT Table A4"),
    # RSIR Table 1: Mask R-CNN 1x (AP^b, AP^m); FLOPs at 800x1280, not 1120x672
    ("mask_rcnn", "rsir_t"): DetectionEntry(42.0, 279.0, (47.6, 42.7), "RSIR Table 1 (FLOPs at 800x1280)"),
    ("mask_rcnn", "rsir_b"): DetectionEntry(96.0, 517.0, (49.2, 44.5), "RSIR Table 1 (FLOPs at 800x1280)"),
    # SALG Table II (Mask R-CNN, MMDetection; no FLOPs given)
    ("mask_rcnn", "salg_t"): DetectionEntry(52.0, None, (43.7, 40.0, 46.5, 42.2), "SALG Table II"),
    ("mask_rcnn", "salg_s"): DetectionEntry(73.0, None, (44.8, 40.4, 46.5, 41.7), "SALG Table II"),
}

# The RegionViT rows of DETECTION keyed by (detector, config suffix), as the configs
# configs/COCO/<detector>_regionvit_<suffix>_1x.py are named ("_w14" = window 14, Table 5's "+").
DETECTION_VARIANTS = {
    "s": "regionvit_s",
    "s_w14": "regionvit_s_w14",
    "s_w14_peg": "regionvit_s_w14_peg",
    "b": "regionvit_b",
    "b_w14": "regionvit_b_w14",
    "b_w14_peg": "regionvit_b_w14_peg",
}
_SUFFIX = {name: suffix for suffix, name in DETECTION_VARIANTS.items()}
DETECTION_PAPER: dict[tuple[str, str], DetectionEntry] = {
    (det, _SUFFIX[name]): entry for (det, name), entry in DETECTION.items() if name in _SUFFIX
}

# Divided space-time video models on Kinetics-400 (8x224x224 clips).
VIDEO: dict[str, ImageNetEntry] = {
    "regionvit_s": ImageNetEntry(42.9, 59.4, "RegionViT Table 7"),
    "regionvit_m": ImageNetEntry(57.5, 83.1, "RegionViT Table 7"),
}


class SegmentationEntry(NamedTuple):
    params_m: float  # as printed: includes the backbone's unused 1000-class ImageNet classifier (RegionViT)
    gflops: float | None
    miou: float
    source: str


# ADE20K semantic segmentation, keyed by (framework, backbone model name). RegionViT's Semantic FPN counts
# include the classifier that the segmentation model does not use (Detectron2's Semantic FPN on the
# classifier-free backbones: 34.97 / 34.19 / 77.32M, + 0.77 / 0.77 / 1.03M). FLOPs: input size not
# stated by RegionViT (ours come closest at 448x448, its crop size). RSIR's UperNet: FLOPs at
# 512x2048, single-scale mIoU.
SEGMENTATION: dict[tuple[str, str], SegmentationEntry] = {
    ("semantic_fpn", "regionvit_s_w14_peg"): SegmentationEntry(35.7, 37.0, 45.3, "RegionViT Table 6"),
    ("semantic_fpn", "regionvit_b_w14_peg"): SegmentationEntry(78.3, 67.0, 47.5, "RegionViT Table 6"),
    ("semantic_fpn", "regionvit_s"): SegmentationEntry(35.0, 37.3, 43.7, "RegionViT Table A5"),
    ("upernet", "rsir_t"): SegmentationEntry(57.0, 956.0, 49.9, "RSIR Table 6"),
    ("upernet", "rsir_b"): SegmentationEntry(109.0, 1210.0, 51.9, "RSIR Table 6"),
}


def paper_imagenet(name: str) -> ImageNetEntry | None:
    """The paper's ImageNet entry for a registered model name, or None when the paper has none."""
    return IMAGENET.get(name)
