# A narrow 2-stage divided space-time RegionViT on the generated motion-direction dataset
# (video/data/synthetic.py; 32x32 videos written to datasets/motion on first use): trains on CPU in a few
# minutes. Only the direction of motion separates the 4 classes, so it needs the temporal attention:
# model.space_time="space" (the image model averaged over frames) stays at chance.
from detectron2.config import LazyCall as L
from omegaconf import OmegaConf

from video.data import eval_transform, motion_dataset, train_transform

from .common.models import model
from .common.optim import lr_multiplier, optimizer
from .common.train import train

model.backbone = "regionvit_ti"  # with the architecture kwargs below
model.num_classes = 4
model.drop_path_rate = 0.0
model.dims = (32, 64)
model.depths = (1, 1)
model.heads = (2, 4)
model.window = 4  # 32x32 input: 2x2 regions of 4x4 local tokens, then one region at stride 8
model.stem_convs = 1

dataloader = OmegaConf.create()
dataloader.train = L(motion_dataset)(
    root="datasets/motion",
    split="train",
    train_per_class=64,
    val_per_class=32,
    size=32,
    video_frames=16,
    num_frames=8,
    decoder="decord",
    # no flip: a horizontal flip turns "move_left" into "move_right"
    transform=L(train_transform)(min_size=32, max_size=36, crop_size=32, flip_prob=0.0),
)
dataloader.test = L(motion_dataset)(
    root="datasets/motion",
    split="val",
    train_per_class=64,
    val_per_class=32,
    size=32,
    video_frames=16,
    num_frames=8,
    decoder="decord",
    # shorter side 36, three 32x32 crops (left, centre, right), softmax averaged
    transform=L(eval_transform)(short_side=36, crop_size=32, num_crops=3),
)
mixup = None

optimizer.lr = 2e-3  # tiny model trained from scratch
optimizer.weight_decay = 0.05
lr_multiplier.warmup_length = 1 / 16  # one of the 16 epochs
lr_multiplier.warmup_factor = 1 / 32  # linear from 1/32 (32 steps per epoch) as the tuned recipe had
lr_multiplier.scheduler.end_value = 1e-6 / 2e-3  # cosine to 1e-6
train.update(
    output_dir="output/video/motion_synthetic",
    epochs=16,
    batch_size=8,
    test_batch_size=16,
    num_workers=0,  # decoding 32x32 clips is cheap; workers would compete for the CPU
    log_period=32,
    eval_period=0,
    amp=dict(enabled=False),
    device="cpu",
)
