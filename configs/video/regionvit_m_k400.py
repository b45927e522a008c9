# Divided space-time RegionViT-M on Kinetics-400 (RegionViT Table 7: 77.6% top-1, 57.5M, 83.1 GFLOPs).
from .regionvit_s_k400 import dataloader, lr_multiplier, mixup, model, optimizer, train

model.backbone = "regionvit_m"
model.drop_path_rate = 0.2  # deeper model; the paper does not give the video rate
train.output_dir = "output/video/regionvit_m_k400"
