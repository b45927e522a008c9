"""Mask R-CNN + FPN, SALG-T backbone, 1x schedule on COCO (SALG Table II: 52M params, 43.7 AP^b / 40.0 AP^m).

The RegionViT Mask R-CNN 1x config with the SALG-T bottom-up: the shared Detectron2 adapter takes it
unchanged (its four stage maps, through the detection LayerNorms, are res2..res5). The paper trains with
MMDetection (AdamW lr 1e-4, weight decay 0.05, 12 epochs, multi-scale shorter side 480-800, longer <= 1333);
the recipe here is the shared 1x one. Any input size: SALG pads to its 7x7 window grid inside every block.
"""

from .mask_rcnn_regionvit_s_1x import dataloader, lr_multiplier, model, optimizer, train

model.backbone.bottom_up.model.name = "salg_t"
train.output_dir = "./output/mask_rcnn_salg_t_1x"
