"""Semantic FPN, RegionViT-B+ w/ PEG backbone, ADE20K (RegionViT Table 6).

Paper: 78.3M params (incl. the unused classifier, 1.03M: 77.32M here), 67 GFLOPs, 47.5 mIoU.
"""

from .semantic_fpn_regionvit_s import dataloader, lr_multiplier, model, optimizer, train

model.backbone.bottom_up.model.name = "regionvit_b_w14_peg"
train.output_dir = "./output/semantic_fpn_regionvit_b_w14_peg"
