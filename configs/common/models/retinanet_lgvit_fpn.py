"""RetinaNet + FPN on an lgvit backbone. P3..P5 from res3..res5; P6/P7 from the last stage (C5) with
C5's channel count read from the backbone (:func:`lgvit_det.fpn_p6p7`), as the official detector does."""

from detectron2.config import LazyCall as L
from detectron2.layers import ShapeSpec
from detectron2.modeling.anchor_generator import DefaultAnchorGenerator
from detectron2.modeling.box_regression import Box2BoxTransform
from detectron2.modeling.matcher import Matcher
from detectron2.modeling.meta_arch import RetinaNet
from detectron2.modeling.meta_arch.retinanet import RetinaNetHead
from lgvit_det import fpn_p6p7

from .lgvit_backbone import bottom_up, input_format, pixel_mean, pixel_std

bottom_up.out_features = ["res3", "res4", "res5"]

model = L(RetinaNet)(
    backbone=L(fpn_p6p7)(
        bottom_up=bottom_up,
        in_features="${.bottom_up.out_features}",
        out_channels=256,
        p6_from="res5",
    ),
    head=L(RetinaNetHead)(
        input_shape=[L(ShapeSpec)(channels="${....backbone.out_channels}")] * 5,
        num_classes="${..num_classes}",
        conv_dims=[256, 256, 256, 256],
        prior_prob=0.01,
        num_anchors=9,
    ),
    anchor_generator=L(DefaultAnchorGenerator)(
        sizes=[[x, x * 2 ** (1.0 / 3), x * 2 ** (2.0 / 3)] for x in [32, 64, 128, 256, 512]],
        aspect_ratios=[0.5, 1.0, 2.0],
        strides=[8, 16, 32, 64, 128],
        offset=0.0,
    ),
    box2box_transform=L(Box2BoxTransform)(weights=[1.0, 1.0, 1.0, 1.0]),
    anchor_matcher=L(Matcher)(thresholds=[0.4, 0.5], labels=[0, -1, 1], allow_low_quality_matches=True),
    num_classes=80,
    head_in_features=["p3", "p4", "p5", "p6", "p7"],
    focal_loss_alpha=0.25,
    focal_loss_gamma=2.0,
    pixel_mean=pixel_mean,
    pixel_std=pixel_std,
    input_format=input_format,
)
