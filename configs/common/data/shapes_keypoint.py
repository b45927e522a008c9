"""The synthetic keypoint dataset (``shapes_kp_train`` / ``shapes_kp_val``: stick figures with five named
keypoints and a flip map) at the small sizes of data/shapes.py."""

from .coco_keypoint import dataloader
from .shapes import dataloader as _shapes

dataloader.train.dataset.names = "shapes_kp_train"
dataloader.test.dataset.names = "shapes_kp_val"
for _split in ("train", "test"):
    dataloader[_split].mapper.augmentations = _shapes[_split].mapper.augmentations
    dataloader[_split].num_workers = _shapes[_split].num_workers
dataloader.train.total_batch_size = _shapes.train.total_batch_size
