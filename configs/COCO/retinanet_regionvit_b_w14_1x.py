"""RetinaNet + FPN, RegionViT-B+ backbone, 1x schedule on COCO.

Paper: 84.4M params, 328.1 GFLOPs, 44.2 AP.
"""

from .retinanet_regionvit_s_1x import dataloader, lr_multiplier, model, optimizer, train

model.backbone.bottom_up.model.name = "regionvit_b_w14"
train.output_dir = "./output/retinanet_regionvit_b_w14_1x"
