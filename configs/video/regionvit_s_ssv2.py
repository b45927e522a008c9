# Divided space-time RegionViT-S on Something-Something-v2 (RegionViT Table 7: 59.7% top-1).
from .common.data_ssv2 import dataloader, mixup
from .common.models import model
from .common.optim import lr_multiplier, optimizer
from .common.train import train

model.num_classes = 174
train.output_dir = "output/video/regionvit_s_ssv2"
