"""Keypoint R-CNN + FPN on an lgvit backbone: Detectron2's own ``common/models/keypoint_rcnn_fpn.py``
(Mask R-CNN with the mask branch swapped for the keypoint head: 8 convs of 512, 17 COCO person
keypoints, 1500 training proposals per image, smooth-L1 box loss) with only the bottom-up network and
the input normalisation replaced."""

from detectron2 import model_zoo

from .lgvit_backbone import bottom_up, input_format, pixel_mean, pixel_std

model = model_zoo.get_config("common/models/keypoint_rcnn_fpn.py").model
model.backbone.bottom_up = bottom_up
model.pixel_mean = pixel_mean
model.pixel_std = pixel_std
model.input_format = input_format
