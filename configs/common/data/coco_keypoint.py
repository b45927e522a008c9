"""COCO person keypoints with the RegionViT 1x input recipe: what Detectron2's
``common/data/coco_keypoint.py`` changes, applied to data/coco.py. One difference: the left/right
flip pairs are looked up from whatever ``dataset.names`` is when the loader is built (Detectron2's
computes them for COCO persons when the config is read), so configs with other keypoint datasets
(``shapes_kp_train``) flip their own keypoints."""

from detectron2.config import LazyCall as L
from detectron2.data.detection_utils import create_keypoint_hflip_indices

from .coco import dataloader

dataloader.train.dataset.names = "keypoints_coco_2017_train"
dataloader.train.dataset.min_keypoints = 1
dataloader.test.dataset.names = "keypoints_coco_2017_val"
dataloader.train.mapper.update(
    use_instance_mask=False,
    use_keypoint=True,
    keypoint_hflip_indices=L(create_keypoint_hflip_indices)(dataset_names="${...dataset.names}"),
)
