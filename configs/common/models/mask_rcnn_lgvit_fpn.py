"""Mask R-CNN + FPN on an lgvit backbone: Detectron2's own ``common/models/mask_rcnn_fpn.py`` (the
standard R50-FPN heads, 80 COCO classes) with only the bottom-up network and the input normalisation
replaced. As in the official RegionViT detector, FPN takes all four local-token maps (res2..res5) and
adds P6 by max-pooling P5 (Detectron2's default ``in_features="${.bottom_up.out_features}"`` and
``LastLevelMaxPool``, unchanged). ``model.roi_heads.num_classes`` is the one knob for other data.
"""

from detectron2 import model_zoo

from .lgvit_backbone import bottom_up, input_format, pixel_mean, pixel_std

model = model_zoo.get_config("common/models/mask_rcnn_fpn.py").model
model.backbone.bottom_up = bottom_up
model.pixel_mean = pixel_mean
model.pixel_std = pixel_std
model.input_format = input_format
