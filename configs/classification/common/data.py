"""ImageNet-1K image folders (``train/<wnid>/*.JPEG``, ``val/<wnid>/*.JPEG``) with timm's transforms, as
RegionViT A.1 / DeiT describe them: training takes a random-resized 224 crop (scale 0.08-1, bicubic),
horizontal flip, RandAugment m=9 n=2 (timm's ``rand-m9-mstd0.5-inc1``, DeiT's), colour jitter 0.4 (timm
skips it when RandAugment is on) and random erasing 0.25 (per-pixel noise, DeiT's ``remode pixel``);
evaluation resizes the shorter side to 256 and takes the centre 224 crop (``crop_pct`` 224/256)."""

from detectron2.config import LazyCall as L
from lgvit_cls import image_folder
from omegaconf import OmegaConf
from timm.data import create_transform

dataloader = OmegaConf.create()
dataloader.train = L(image_folder)(
    root="datasets/imagenet/train",
    transform=L(create_transform)(
        input_size=224,
        is_training=True,
        scale=(0.08, 1.0),
        hflip=0.5,
        color_jitter=0.4,
        auto_augment="rand-m9-mstd0.5-inc1",
        interpolation="bicubic",
        re_prob=0.25,
        re_mode="pixel",
        re_count=1,
    ),
)
dataloader.val = L(image_folder)(
    root="datasets/imagenet/val",
    transform=L(create_transform)(input_size=224, crop_pct=224 / 256, interpolation="bicubic"),
)
