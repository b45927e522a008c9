from detectron2.config import LazyCall as L
from omegaconf import OmegaConf

from video.data import eval_transform, kinetics_dataset, train_transform
from video.data.mix import MixupCutmix

# Kinetics-400: a list file ("<path> <label>" or "<path>,<label>") or a class-per-folder tree.
# A.4: 8 frames uniformly over the whole video; shorter side in [256, 320], random 224 crop, flip;
# test: shorter side 256, three 224 crops, softmax averaged.
dataloader = OmegaConf.create()
dataloader.train = L(kinetics_dataset)(
    source="datasets/kinetics400/train.csv",
    video_root="datasets/kinetics400",
    classes=None,  # optional class list/JSON: needed when the labels are class names
    num_classes=400,
    train=True,
    num_frames=8,
    decoder="decord",
    transform=L(train_transform)(min_size=256, max_size=320, crop_size=224, flip_prob=0.5),
)
dataloader.test = L(kinetics_dataset)(
    source="datasets/kinetics400/val.csv",
    video_root="datasets/kinetics400",
    classes=None,
    num_classes=400,
    train=False,
    num_frames=8,
    num_clips=1,  # temporal clips per video (views = clips x 3 crops)
    decoder="decord",
    transform=L(eval_transform)(short_side=256, crop_size=224, num_crops=3),
)

# "the same Mixup, CutMix ... as in image classification" (DeiT values)
mixup = L(MixupCutmix)(
    num_classes=400, mixup_alpha=0.8, cutmix_alpha=1.0, cutmix_prob=0.5, prob=1.0, label_smoothing=0.1
)
