"""Detectron2 project for lgvit backbones: the Backbone adapter, FPN/optimizer/checkpoint helpers, the
synthetic shapes datasets (registered on import), training/evaluation loops, visualisation and demo."""

from .backbone import LGViTBackbone, feature_name
from .datasets import checked_dataset_dicts, coco_evaluator, ensure_dataset, register_shapes
from .fpn import fpn_p6p7
from .optim import detector_param_groups

__all__ = [
    "LGViTBackbone",
    "checked_dataset_dicts",
    "coco_evaluator",
    "detector_param_groups",
    "ensure_dataset",
    "feature_name",
    "fpn_p6p7",
    "register_shapes",
]

register_shapes()  # the synthetic splits, by name, for configs and Detectron2's stock scripts
