"""Mask R-CNN + FPN, RSIR-T backbone, 1x schedule on COCO: the RegionViT-S 1x config (AdamW lr 1e-4,
weight decay 0.05, batch 16, 90k iterations, drop path 0.2 -- Swin's fine-tuning recipe, which the RSIR
paper follows) with the bottom-up swapped.

Paper (RSIR Table 1): 42M params, 279 GFLOPs at 800x1280, 47.6 AP^b / 42.7 AP^m.
"""

from .mask_rcnn_regionvit_s_1x import dataloader, lr_multiplier, model, optimizer, train

model.backbone.bottom_up.model.name = "rsir_t"
train.output_dir = "./output/mask_rcnn_rsir_t_1x"
