"""UperNet on the synthetic label maps (4 classes), tiny RegionViT, CPU-sized: the UperNet description
(``common/models/upernet_lgvit.py``) with a 64-channel head without normalisation, no auxiliary head, and
the Semantic FPN shapes schedule. Batch 4 is too small for BatchNorm statistics, and GroupNorm at this
width (32 groups of 2 channels) stalled learning on this data (after 150 iterations: mIoU 21, background
everywhere, with GN; 93.9 without), so the tiny head has none."""

from ..common.models.regionvit_tiny import regionvit_tiny
from .common.models.upernet_lgvit import model
from .semantic_fpn_regionvit_tiny_shapes import dataloader, lr_multiplier, optimizer, train

model.backbone.model = regionvit_tiny
model.sem_seg_head.input_shape.channels = "${...backbone.model.dims}"
model.sem_seg_head.update(num_classes=4, channels=64, norm="", aux_in_feature=None)

train.output_dir = "./output/upernet_regionvit_tiny_shapes"
