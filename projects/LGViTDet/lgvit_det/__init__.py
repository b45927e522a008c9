"""Detectron2 project for lgvit backbones: the Backbone adapter, FPN/optimizer/checkpoint helpers, the
synthetic shapes datasets (registered on import), the engine glue (training/evaluation, a predictor and
its drawings); semantic segmentation (the UperNet head, synthetic label maps, a checking mapper). The
demos, benchmarks and paper tables are the tools' (``tools/lgvit_tools/``)."""

from .backbone import LGViTBackbone, feature_name
from .datasets import checked_dataset_dicts, coco_evaluator, ensure_dataset, register_shapes
from .fpn import fpn_p6p7
from .optim import detector_param_groups
from .seg_data import SemSegMapper, checked_sem_seg_dicts, register_seg_shapes
from .semseg import UperNetHead, pyramid_shapes

__all__ = [
    "LGViTBackbone",
    "SemSegMapper",
    "UperNetHead",
    "checked_dataset_dicts",
    "checked_sem_seg_dicts",
    "coco_evaluator",
    "detector_param_groups",
    "ensure_dataset",
    "feature_name",
    "fpn_p6p7",
    "pyramid_shapes",
    "register_seg_shapes",
    "register_shapes",
]

register_shapes()  # the synthetic splits, by name, for configs and Detectron2's stock scripts
register_seg_shapes()  # and the synthetic segmentation splits
