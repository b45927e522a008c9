"""UperNet on the synthetic label maps (4 classes), tiny RegionViT, CPU-sized: the UperNet description
(:mod:`configs.segmentation.common.models.upernet_lgvit`) with a 64-channel head, GroupNorm (batch 4 is
too small for BatchNorm statistics), no auxiliary head, and the Semantic FPN shapes schedule."""

from ..common.models.regionvit_tiny import regionvit_tiny
from .common.models.upernet_lgvit import model
from .semantic_fpn_regionvit_tiny_shapes import dataloader, lr_multiplier, optimizer, train

model.backbone.model = regionvit_tiny
model.sem_seg_head.input_shape.channels = "${...backbone.model.dims}"
model.sem_seg_head.update(num_classes=4, channels=64, norm="GN", aux_in_feature=None)

train.output_dir = "./output/upernet_regionvit_tiny_shapes"
