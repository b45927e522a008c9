"""RetinaNet on the synthetic shapes (3 classes), tiny RegionViT, CPU-sized: the COCO 1x config with small
data, a narrow FPN/head (P6/P7 still from C5) and a 200-iteration schedule. A few minutes on 2 CPU cores."""

from ..COCO.retinanet_regionvit_s_1x import lr_multiplier, model, optimizer, train
from ..common.data.shapes import dataloader
from ..common.models.regionvit_tiny import regionvit_tiny

model.backbone.bottom_up.model = regionvit_tiny
model.backbone.out_channels = 64
model.head.conv_dims = [64, 64]
model.num_classes = 3

optimizer.lr = 1e-3  # from scratch, batch 4: a larger step than fine-tuning's 1e-4
lr_multiplier.warmup_length = 30 / 200
train.max_iter = 200
train.amp.enabled = False
train.checkpointer.period = 200
train.eval_period = 200
train.log_period = 20
train.seed = 0
train.output_dir = "./output/retinanet_regionvit_tiny_shapes"
