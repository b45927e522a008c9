"""Training and evaluating lgvit classifiers (ImageNet-style image folders) on timm's utilities.

Not imported by ``import lgvit``: it needs torchvision, and detectron2 for the lazy configs (imported
only when a config is instantiated). Entry point: ``tools/train_cls.py``; configs:
``configs/classification/``; the real-image demo data: :func:`export_digits`.
"""

from .data import ImageFolderDataset, Unreadable, check_same_classes, collate_skipping, image_folder
from .digits import DigitsExport, export_digits
from .engine import (
    REQUIRED,
    ClassificationTrainer,
    TrainSettings,
    evaluate,
    load_eval_weights,
    load_initial_weights,
    run,
)

__all__ = [
    "REQUIRED",
    "ClassificationTrainer",
    "DigitsExport",
    "ImageFolderDataset",
    "TrainSettings",
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
