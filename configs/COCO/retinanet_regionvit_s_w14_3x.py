"""RetinaNet + FPN, RegionViT-S+ backbone, 3x schedule on COCO.

Paper: 41.5M params, 204.2 GFLOPs, 46.9 AP.
"""

from .retinanet_regionvit_s_3x import dataloader, lr_multiplier, model, optimizer, train

model.backbone.bottom_up.model.name = "regionvit_s_w14"
train.output_dir = "./output/retinanet_regionvit_s_w14_3x"
