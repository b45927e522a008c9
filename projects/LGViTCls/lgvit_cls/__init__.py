"""Image classification with lgvit backbones (ImageNet-style image folders), a task of the training
runtime :mod:`lgvit_engine`. Entry point: ``projects/LGViTCls/train_net.py``; configs:
``configs/classification/``; the real-image demo data: :func:`export_digits`. See the README beside it."""

from .data import ImageFolderDataset, Unreadable, check_same_classes, collate_skipping, image_folder
from .digits import DigitsExport, export_digits
from .engine import REQUIRED, ClassificationTask, evaluate, load_eval_weights, load_initial_weights, run

__all__ = [
    "REQUIRED",
    "ClassificationTask",
    "DigitsExport",
    "ImageFolderDataset",
    "Unreadable",
    "check_same_classes",
    "collate_skipping",
    "evaluate",
    "export_digits",
    "image_folder",
    "load_eval_weights",
    "load_initial_weights",
    "run",
]
