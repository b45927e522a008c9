"""Keypoint R-CNN + FPN on an lgvit backbone: the Mask R-CNN description with the mask branch swapped
for Detectron2's keypoint head (8 convs of 512, 17 COCO person keypoints)."""

from detectron2.config import LazyCall as L
from detectron2.layers import ShapeSpec
from detectron2.modeling.poolers import ROIPooler
from detectron2.modeling.roi_heads import KRCNNConvDeconvUpsampleHead

from .mask_rcnn_lgvit_fpn import FPN_LEVELS, POOLER_SCALES, model

for _key in ("mask_in_features", "mask_pooler", "mask_head"):
    model.roi_heads.pop(_key)

model.roi_heads.update(
    num_classes=1,
    keypoint_in_features=FPN_LEVELS,
    keypoint_pooler=L(ROIPooler)(
        output_size=14, scales=POOLER_SCALES, sampling_ratio=0, pooler_type="ROIAlignV2"
    ),
    keypoint_head=L(KRCNNConvDeconvUpsampleHead)(
        input_shape=L(ShapeSpec)(channels="${....backbone.out_channels}", width=14, height=14),
        num_keypoints=17,
        conv_dims=[512] * 8,
        loss_normalizer="visible",
    ),
)
# Detectron2's keypoint recipe: 1500 proposals per image in training (1000 hurts box AP), and a
# smooth-L1 box loss (keypoint AP degrades with plain L1).
model.proposal_generator.post_nms_topk = (1500, 1000)
model.roi_heads.box_predictor.smooth_l1_beta = 0.5
