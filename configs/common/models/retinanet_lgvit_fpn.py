"""RetinaNet + FPN on an lgvit backbone: Detectron2's own ``common/models/retinanet.py`` with the
bottom-up network (res3..res5) and the input normalisation replaced, and P6/P7 built by
:func:`lgvit_det.fpn_p6p7`: still from the last stage (C5), as in Detectron2 and the official detector,
but with C5's channel count read from the backbone (768 for RegionViT-S, 1024 for -B) instead of
ResNet-50's hard-coded 2048."""

from detectron2 import model_zoo
from detectron2.config import LazyCall as L
from lgvit_det import fpn_p6p7

from .lgvit_backbone import bottom_up, input_format, pixel_mean, pixel_std

model = model_zoo.get_config("common/models/retinanet.py").model
model.backbone = L(fpn_p6p7)(
    bottom_up=bottom_up,
    in_features="${.bottom_up.out_features}",
    out_channels=256,
    p6_from="res5",
)
model.backbone.bottom_up.out_features = ["res3", "res4", "res5"]
model.pixel_mean = pixel_mean
model.pixel_std = pixel_std
model.input_format = input_format
