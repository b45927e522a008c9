"""COCO instances with the RegionViT 1x input recipe (paper 4.2 / A.2): shorter side 672, longer side at
most 1,120, horizontal flip; batch 16. Files missing under $DETECTRON2_DATASETS/coco give a clear error
(:func:`lgvit_det.checked_dataset_dicts`)."""

import detectron2.data.transforms as T
from detectron2.config import LazyCall as L
from detectron2.data import DatasetMapper, build_detection_test_loader, build_detection_train_loader
from lgvit_det import checked_dataset_dicts, coco_evaluator
from omegaconf import OmegaConf

dataloader = OmegaConf.create()

dataloader.train = L(build_detection_train_loader)(
    dataset=L(checked_dataset_dicts)(names="coco_2017_train"),
    mapper=L(DatasetMapper)(
        is_train=True,
        augmentations=[
            L(T.ResizeShortestEdge)(short_edge_length=(672,), max_size=1120, sample_style="choice"),
            L(T.RandomFlip)(horizontal=True),
        ],
        image_format="RGB",  # must equal model.input_format
        use_instance_mask=True,
    ),
    total_batch_size=16,
    num_workers=4,
)

dataloader.test = L(build_detection_test_loader)(
    dataset=L(checked_dataset_dicts)(names="coco_2017_val", filter_empty=False),
    mapper=L(DatasetMapper)(
        is_train=False,
        augmentations=[L(T.ResizeShortestEdge)(short_edge_length=672, max_size=1120)],
        image_format="${...train.mapper.image_format}",
    ),
    num_workers=4,
)

dataloader.evaluator = L(coco_evaluator)(dataset_name="${..test.dataset.names}")
