"""Keypoint R-CNN on the synthetic stick figures (1 class, 5 named keypoints with a flip map), tiny
RegionViT, CPU-sized: the COCO 1x config with small data and the shared CPU-tiny settings
(``common/cpu_tiny.py``)."""

from ..COCO.keypoint_rcnn_regionvit_s_1x import lr_multiplier, model, optimizer, train
from ..common.cpu_tiny import cpu_tiny
from ..common.data.shapes_keypoint import dataloader

cpu_tiny(model, optimizer, lr_multiplier, train, "./output/keypoint_rcnn_regionvit_tiny_shapes")
model.roi_heads.keypoint_head.num_keypoints = 5
