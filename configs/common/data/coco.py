"""COCO instances: Detectron2's ``common/data/coco.py`` with the RegionViT 1x input recipe (paper 4.2 /
A.2): shorter side 672, longer side at most 1,120 (train and test), RGB images (the backbone's
pretraining order); horizontal flip, batch 16 and 4 workers are Detectron2's. Files missing under
$DETECTRON2_DATASETS/coco give a clear error (:func:`lgvit_det.checked_dataset_dicts`), and the evaluator
is :func:`lgvit_det.coco_evaluator` (Detectron2's ``COCOEvaluator`` with a check of the dataset)."""

from detectron2 import model_zoo
from detectron2.config import LazyCall as L
from lgvit_det import checked_dataset_dicts, coco_evaluator

dataloader = model_zoo.get_config("common/data/coco.py").dataloader
dataloader.train.dataset = L(checked_dataset_dicts)(names="coco_2017_train")
dataloader.train.mapper.augmentations[0].update(short_edge_length=(672,), max_size=1120)
dataloader.train.mapper.image_format = "RGB"  # must equal model.input_format
dataloader.test.dataset = L(checked_dataset_dicts)(names="coco_2017_val", filter_empty=False)
dataloader.test.mapper.augmentations[0].update(short_edge_length=672, max_size=1120)
dataloader.evaluator = L(coco_evaluator)(dataset_name="${..test.dataset.names}")
