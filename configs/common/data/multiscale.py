"""3x-schedule multi-scale training (paper A.2; official ``AUG_MODE: "DETR"``, see
:mod:`lgvit_det.augment`): flip, then either a random shorter side in 480..896 or resize-crop-resize.
Use as ``dataloader.train.mapper.augmentations = multiscale_augmentations``."""

from detectron2.config import LazyCall as L
from lgvit_det.augment import OFFICIAL_3X_SCALES
from lgvit_det.augment import multiscale_augmentations as _multiscale

multiscale_augmentations = L(_multiscale)(scales=list(OFFICIAL_3X_SCALES), max_size=1120)
