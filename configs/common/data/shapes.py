"""The synthetic instances dataset (``shapes_train`` / ``shapes_val``, registered by ``import lgvit_det``,
generated on first use) at CPU sizes: shorter side 192 (train 160..224, longer <= 288), flip, batch 4."""

import detectron2.data.transforms as T
from detectron2.config import LazyCall as L

from .coco import dataloader

dataloader.train.dataset.names = "shapes_train"
dataloader.test.dataset.names = "shapes_val"
dataloader.train.mapper.augmentations = [
    L(T.ResizeShortestEdge)(short_edge_length=(160, 192, 224), max_size=288, sample_style="choice"),
    L(T.RandomFlip)(horizontal=True),
]
dataloader.test.mapper.augmentations = [L(T.ResizeShortestEdge)(short_edge_length=192, max_size=288)]
dataloader.train.total_batch_size = 4
dataloader.train.num_workers = 1
dataloader.test.num_workers = 1
