"""RetinaNet + FPN, RegionViT-B backbone, 1x schedule on COCO.

Paper: 83.4M params, 308.9 GFLOPs, 43.3 AP.
"""

from .retinanet_regionvit_s_1x import dataloader, lr_multiplier, model, optimizer, train

model.backbone.bottom_up.model.name = "regionvit_b"
train.output_dir = "./output/retinanet_regionvit_b_1x"
