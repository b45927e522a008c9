from detectron2.config import LazyCall as L
from omegaconf import OmegaConf

from video.data import eval_transform, ssv2_dataset, train_transform
from video.data.mix import MixupCutmix

# Something-Something-v2 as released: labels/ (labels.json, train.json, validation.json) and videos/<id>.webm.
# No horizontal flip: SSv2 classes name left/right ("Pushing something from left to right").
dataloader = OmegaConf.create()
dataloader.train = L(ssv2_dataset)(
    annotation_dir="datasets/ssv2/labels",
    split="train",
    video_root="datasets/ssv2/videos",
    train=True,
    num_frames=8,
    decoder="decord",
    transform=L(train_transform)(min_size=256, max_size=320, crop_size=224, flip_prob=0.0),
)
dataloader.test = L(ssv2_dataset)(
    annotation_dir="datasets/ssv2/labels",
    split="validation",
    video_root="datasets/ssv2/videos",
    train=False,
    num_frames=8,
    num_clips=1,
    decoder="decord",
    transform=L(eval_transform)(short_side=256, crop_size=224, num_crops=3),
)

mixup = L(MixupCutmix)(
    num_classes=174, mixup_alpha=0.8, cutmix_alpha=1.0, cutmix_prob=0.5, prob=1.0, label_smoothing=0.1
)
