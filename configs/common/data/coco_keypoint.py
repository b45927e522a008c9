"""COCO person keypoints with the RegionViT 1x input recipe (as data/coco.py)."""

from detectron2.config import LazyCall as L
from detectron2.data.detection_utils import create_keypoint_hflip_indices

from .coco import dataloader

dataloader.train.dataset.names = "keypoints_coco_2017_train"
dataloader.train.dataset.min_keypoints = 1
dataloader.test.dataset.names = "keypoints_coco_2017_val"
dataloader.train.mapper.update(
    use_instance_mask=False,
    use_keypoint=True,
    # flipping swaps left/right keypoints; the pairs come from the dataset's metadata
    keypoint_hflip_indices=L(create_keypoint_hflip_indices)(dataset_names="${...dataset.names}"),
)
