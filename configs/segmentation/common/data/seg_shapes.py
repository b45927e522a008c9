"""The synthetic segmentation data (``seg_shapes_train`` / ``seg_shapes_val``, registered by
``import lgvit_det``, generated on first use; 4 classes: background, circle, square, triangle; outlines
ignored) at CPU sizes: the ADE20K pipeline with shorter side 128 (longer <= 512), a random 128x128 crop,
flip; batch 4; evaluation on the whole resized image."""

import detectron2.data.transforms as T
from detectron2.config import LazyCall as L

from .ade20k import dataloader

dataloader.train.dataset.names = "seg_shapes_train"
dataloader.test.dataset.names = "seg_shapes_val"
dataloader.train.mapper.augmentations = [
    L(T.ResizeShortestEdge)(short_edge_length=128, max_size=512, sample_style="choice"),
    L(T.RandomCrop_CategoryAreaConstraint)(
        crop_type="absolute", crop_size=(128, 128), single_category_max_area=1.0, ignored_category=255
    ),
    L(T.RandomFlip)(horizontal=True),
]
dataloader.test.mapper.augmentations = [L(T.ResizeShortestEdge)(short_edge_length=128, max_size=512)]
dataloader.train.total_batch_size = 4
dataloader.train.num_workers = 1
dataloader.test.num_workers = 1
