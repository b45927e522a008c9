"""Semantic FPN (Kirillov et al., 2019) on an lgvit backbone, as Detectron2's own pieces: the FPN and the
``SemSegFPNHead`` (128 channels, GroupNorm, stride 4) of Detectron2's ``common/models/panoptic_fpn.py``
inside a ``SemanticSegmentor``; the FPN's ResNet bottom-up is replaced by the detectors' lgvit bottom-up
(``configs/common/models/lgvit_backbone.py``: RegionViT-S, detection norms, drop path 0.2), its P6 is
dropped (Semantic FPN reads P2..P5), 150 ADE20K classes and the full loss weight (PanopticFPN halves it).
"""

from detectron2 import model_zoo
from detectron2.config import LazyCall as L
from detectron2.modeling import SemanticSegmentor

from ....common.models.lgvit_backbone import bottom_up, pixel_mean, pixel_std

_panoptic = model_zoo.get_config("common/models/panoptic_fpn.py").model

model = L(SemanticSegmentor)(
    backbone=_panoptic.backbone,
    sem_seg_head=_panoptic.sem_seg_head,
    pixel_mean=pixel_mean,
    pixel_std=pixel_std,
)
model.backbone.bottom_up = bottom_up
model.backbone.top_block = None
model.sem_seg_head.num_classes = 150
model.sem_seg_head.loss_weight = 1.0
