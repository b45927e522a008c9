"""Keypoint R-CNN on the synthetic stick figures (1 class, 5 named keypoints with a flip map), tiny
RegionViT, CPU-sized: the COCO 1x config with small data, narrow FPN/heads and a 200-iteration schedule."""

from ..COCO.keypoint_rcnn_regionvit_s_1x import lr_multiplier, model, optimizer, train
from ..common.data.shapes_keypoint import dataloader
from ..common.models.regionvit_tiny import regionvit_tiny

model.backbone.bottom_up.model = regionvit_tiny
model.backbone.out_channels = 64
model.proposal_generator.batch_size_per_image = 64
model.proposal_generator.pre_nms_topk = (1000, 500)
model.proposal_generator.post_nms_topk = (300, 100)
model.roi_heads.batch_size_per_image = 64
model.roi_heads.box_head.fc_dims = [256, 256]
model.roi_heads.box_predictor.input_shape.channels = 256
model.roi_heads.keypoint_head.num_keypoints = 5
model.roi_heads.keypoint_head.conv_dims = [64, 64]

optimizer.lr = 1e-3  # from scratch, batch 4: a larger step than fine-tuning's 1e-4
lr_multiplier.warmup_length = 30 / 200
train.max_iter = 200
train.amp.enabled = False
train.checkpointer.period = 200
train.eval_period = 200
train.log_period = 20
train.seed = 0
train.output_dir = "./output/keypoint_rcnn_regionvit_tiny_shapes"
