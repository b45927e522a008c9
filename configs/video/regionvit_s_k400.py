# Divided space-time RegionViT-S on Kinetics-400 (RegionViT Table 7: 76.6% top-1, 42.9M, 59.4 GFLOPs).
from .common.data_k400 import dataloader, mixup
from .common.models import model
from .common.optim import lr_multiplier, optimizer
from .common.train import train

train.output_dir = "output/video/regionvit_s_k400"
