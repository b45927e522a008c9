"""Semantic FPN, RegionViT-S+ w/ PEG backbone, ADE20K (RegionViT Table 6).

Paper: 35.7M params (incl. the unused classifier, 0.77M: 34.97M here), 37 GFLOPs, 45.3 mIoU.
"""

from .semantic_fpn_regionvit_s import dataloader, lr_multiplier, model, optimizer, train

model.backbone.bottom_up.model.name = "regionvit_s_w14_peg"
train.output_dir = "./output/semantic_fpn_regionvit_s_w14_peg"
