"""RetinaNet + FPN, RegionViT-B+ w/ PEG backbone, 3x schedule on COCO.

Paper: 84.5M params, 328.2 GFLOPs, 46.9 AP.
"""

from .retinanet_regionvit_s_3x import dataloader, lr_multiplier, model, optimizer, train

model.backbone.bottom_up.model.name = "regionvit_b_w14_peg"
train.output_dir = "./output/retinanet_regionvit_b_w14_peg_3x"
