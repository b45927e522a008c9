"""UperNet (Xiao et al., 2018) on an lgvit backbone: Detectron2's ``SemanticSegmentor`` with the registered
:class:`lgvit_det.UperNetHead` reading the backbone's maps res2..res5 directly (no separate FPN), the
mmsegmentation setting of RSIR Table 6: 512 channels, PPM bins 1/2/3/6, SyncBN, dropout 0.1, an
auxiliary FCN head on res4 (256 channels, loss weight 0.4), 150 ADE20K classes.

``model.sem_seg_head.input_shape`` must give the backbone's channels per map (the head is built before
it sees a feature); configs set it with :func:`lgvit_det.pyramid_shapes`. The RSIR-T/B UperNet configs of
RSIR Table 6 are ``configs/segmentation/upernet_rsir_{t,b}.py`` (see projects/LGViTDet/SEGMENTATION.md).
"""

from detectron2.config import LazyCall as L
from detectron2.modeling import SemanticSegmentor
from lgvit_det import UperNetHead, pyramid_shapes

from ....common.models.lgvit_backbone import bottom_up, pixel_mean, pixel_std

model = L(SemanticSegmentor)(
    backbone=bottom_up,
    sem_seg_head=L(UperNetHead)(
        input_shape=L(pyramid_shapes)(channels=(96, 192, 384, 768)),  # RegionViT-S; set per backbone
        num_classes=150,
        channels=512,
        pool_scales=(1, 2, 3, 6),
        norm="SyncBN",
        dropout=0.1,
        common_stride=4,
        loss_weight=1.0,
        ignore_value=255,
        aux_in_feature="res4",
        aux_channels=256,
        aux_loss_weight=0.4,
    ),
    pixel_mean=pixel_mean,
    pixel_std=pixel_std,
)
