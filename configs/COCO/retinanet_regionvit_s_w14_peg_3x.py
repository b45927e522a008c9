"""RetinaNet + FPN, RegionViT-S+ w/ PEG backbone, 3x schedule on COCO.

Paper: 41.6M params, 204.3 GFLOPs, 46.7 AP.
"""

from .retinanet_regionvit_s_3x import dataloader, lr_multiplier, model, optimizer, train

model.backbone.bottom_up.model.name = "regionvit_s_w14_peg"
train.output_dir = "./output/retinanet_regionvit_s_w14_peg_3x"
