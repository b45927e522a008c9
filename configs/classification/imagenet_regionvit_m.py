"""RegionViT-M on ImageNet-1K: the RegionViT-S recipe (Table A1 gives one IN1K column for all variants)."""

from .imagenet_regionvit_s import dataloader, ema, mixup, model, optimizer, scheduler, train

model.name = "regionvit_m"
train.update(output_dir="output/classification/imagenet_regionvit_m")
