"""RegionViT-Ti on ImageNet-1K: the RegionViT-S recipe (Table A1) without instance repetition, which
the table's footnote disables for Ti."""

from .imagenet_regionvit_s import dataloader, ema, mixup, model, optimizer, scheduler, train

model.name = "regionvit_ti"
train.update(output_dir="output/classification/imagenet_regionvit_ti", repeats=0)
