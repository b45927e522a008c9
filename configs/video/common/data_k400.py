from detectron2.config import LazyCall as L
from omegaconf import OmegaConf

from video.data import eval_transform, kinetics_dataset, train_transform
from video.data.mix import MixupCutmix

# Kinetics-400 as released (the annotation CSV "label,youtube_id,time_start,time_end,split" with the
# downloaders' clips <youtube_id>_<start:06d>_<end:06d>.mp4, flat or in class folders), a list file
# ("<path>,<label>" or "<path> <label>") or a class-per-folder tree. Clips the CSV lists but the disk
# lacks are counted once before training and their rows written to missing_list; on_missing="error"
# refuses them instead.
# A.4: 8 frames uniformly over the whole video; shorter side in [256, 320], random 224 crop, flip;
# test: shorter side 256, three 224 crops, softmax averaged.
dataloader = OmegaConf.create()
dataloader.train = L(kinetics_dataset)(
    source="datasets/kinetics400/annotations/train.csv",
    video_root="datasets/kinetics400/train",
    classes=None,  # class list/JSON; default: the released CSV's labels sorted (list files: indices)
    num_classes=400,
    missing_list="${train.output_dir}/missing_clips_train.csv",
    on_missing="skip",  # or "error"
    train=True,
    num_frames=8,
    decoder="decord",
    transform=L(train_transform)(min_size=256, max_size=320, crop_size=224, flip_prob=0.5),
)
dataloader.test = L(kinetics_dataset)(
    source="datasets/kinetics400/annotations/val.csv",
    video_root="datasets/kinetics400/val",
    classes=None,
    num_classes=400,
    missing_list="${train.output_dir}/missing_clips_val.csv",
    on_missing="${..train.on_missing}",
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
