"""ADE20K (SceneParsing, 150 classes, ignore label 255) through Detectron2's own registration
(``ade20k_sem_seg_train`` / ``ade20k_sem_seg_val`` under ``$DETECTRON2_DATASETS/ADEChallengeData2016``,
labels prepared by Detectron2's ``datasets/prepare_ade20k_sem_seg.py``), with the RegionViT recipe
(paper A.3, following Twins): shorter side 448 with the longer side at most 1,792, a random 448x448 crop
(no class covering more than 75% of it, as Twins/mmseg), horizontal flip; batch 16. Evaluation on the
whole resized image (shorter side 448) with Detectron2's ``SemSegEvaluator`` (mIoU, pixel accuracy).
Missing directories, images without label maps, bad label values and image/label size mismatches are
errors naming the file (:func:`lgvit_det.checked_sem_seg_dicts`, :class:`lgvit_det.SemSegMapper`)."""

import detectron2.data.transforms as T
from detectron2.config import LazyCall as L
from detectron2.data import build_detection_test_loader, build_detection_train_loader
from detectron2.evaluation import SemSegEvaluator
from lgvit_det import SemSegMapper, checked_sem_seg_dicts
from omegaconf import OmegaConf

dataloader = OmegaConf.create()

dataloader.train = L(build_detection_train_loader)(
    dataset=L(checked_sem_seg_dicts)(names="ade20k_sem_seg_train"),
    mapper=L(SemSegMapper)(
        is_train=True,
        augmentations=[
            L(T.ResizeShortestEdge)(short_edge_length=448, max_size=1792, sample_style="choice"),
            L(T.RandomCrop_CategoryAreaConstraint)(
                crop_type="absolute",
                crop_size=(448, 448),
                single_category_max_area=0.75,
                ignored_category=255,
            ),
            L(T.RandomFlip)(horizontal=True),
        ],
        image_format="RGB",
        num_classes="${model.sem_seg_head.num_classes}",
        ignore_label="${model.sem_seg_head.ignore_value}",
    ),
    total_batch_size=16,
    num_workers=4,
)

dataloader.test = L(build_detection_test_loader)(
    dataset=L(checked_sem_seg_dicts)(names="ade20k_sem_seg_val"),
    mapper=L(SemSegMapper)(
        is_train=False,
        augmentations=[L(T.ResizeShortestEdge)(short_edge_length=448, max_size=1792)],
        image_format="${...train.mapper.image_format}",
        num_classes="${...train.mapper.num_classes}",
        ignore_label="${...train.mapper.ignore_label}",
    ),
    num_workers=4,
)

dataloader.evaluator = L(SemSegEvaluator)(dataset_name="${..test.dataset.names}")
