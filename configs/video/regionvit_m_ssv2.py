# Divided space-time RegionViT-M on Something-Something-v2 (RegionViT Table 7: 59.8% top-1).
from .regionvit_s_ssv2 import dataloader, lr_multiplier, mixup, model, optimizer, train

model.backbone = "regionvit_m"
model.drop_path_rate = 0.2
train.output_dir = "output/video/regionvit_m_ssv2"
