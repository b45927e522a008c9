"""RetinaNet + FPN, RegionViT-B+ w/ PEG backbone, 1x schedule on COCO.

Paper: 84.5M params, 328.2 GFLOPs, 44.6 AP.
"""

from .retinanet_regionvit_s_1x import dataloader, lr_multiplier, model, optimizer, train

model.backbone.bottom_up.model.name = "regionvit_b_w14_peg"
train.output_dir = "./output/retinanet_regionvit_b_w14_peg_1x"
