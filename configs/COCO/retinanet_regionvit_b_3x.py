"""RetinaNet + FPN, RegionViT-B backbone, 3x schedule on COCO.

Paper: 83.4M params, 308.9 GFLOPs, 46.1 AP.
"""

from .retinanet_regionvit_s_3x import dataloader, lr_multiplier, model, optimizer, train

model.backbone.bottom_up.model.name = "regionvit_b"
train.output_dir = "./output/retinanet_regionvit_b_3x"
