"""A tiny RegionViT trained from scratch on the UCI handwritten digits (real images; exported by
``python tools/export_digits.py --out datasets/digits``: 1,347 training and 450 held-out images, 8x8
upsampled to 32x32), on CPU in about a minute; reaches 99.33% held-out top-1 (seed 0; see the README).

The model is the tiny RegionViT of the detection demos (RegionViT-Ti layout at half width, depths
1-1-2-1, ~1.3M parameters) with window 2 for 32x32 inputs: 4x4 regions of 2x2 local tokens in stage 1.
Its checkpoints load into configs/shapes/*_regionvit_tiny_shapes.py detectors and video models of the
same backbone (window adapted). The recipe is the ImageNet one scaled down: AdamW, cosine with warm-up,
label smoothing, gradient clipping; mild augmentation (crops of 60-100% of the image, no flip: digits are
not mirror-symmetric), no mixup, RandAugment or instance repetition (they slow a 20-epoch run down).
"""

from detectron2.config import LazyCall as L
from lgvit_cls import image_folder
from omegaconf import OmegaConf
from timm.data import create_transform

import lgvit

from .common.optim import optimizer, scheduler
from .common.train import ema, train

SIZE = 32

model = L(lgvit.create_model)(
    name="regionvit_ti",
    num_classes=10,
    drop_path_rate=0.0,
    dims=(32, 64, 128, 256),
    depths=(1, 1, 2, 1),
    heads=(1, 2, 4, 8),
    window=2,
    stem_convs=3,
)

dataloader = OmegaConf.create()
dataloader.train = L(image_folder)(
    root="datasets/digits/train",
    transform=L(create_transform)(
        input_size=SIZE,
        is_training=True,
        scale=(0.6, 1.0),
        hflip=0.0,
        color_jitter=0.0,
        interpolation="bicubic",
    ),
)
dataloader.val = L(image_folder)(
    root="datasets/digits/val",
    transform=L(create_transform)(input_size=SIZE, crop_pct=1.0, interpolation="bicubic"),
)
mixup = None

optimizer.lr = 2e-3
optimizer.weight_decay = 0.05
scheduler.warmup_epochs = 2
scheduler.warmup_lr = 1e-5
scheduler.min_lr = 1e-5
train.update(
    output_dir="output/classification/digits_regionvit_tiny",
    epochs=20,
    batch_size=64,
    val_batch_size=256,
    num_workers=0,  # 32x32 PNGs decode in microseconds: worker processes would only compete for the CPU
    repeats=0,
    clip_grad=5.0,
    label_smoothing=0.1,
    log_period=50,
    eval_period=5,
    device="cpu",
)
