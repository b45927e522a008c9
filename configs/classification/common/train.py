"""What every classification config shares: timm's Mixup/CutMix with label smoothing, no EMA, and the
plain settings of :class:`lgvit.classification.engine.TrainSettings`."""

from detectron2.config import LazyCall as L
from timm.data import Mixup

# Mixup 0.8 / CutMix 1.0, one of the two per batch (switch probability 0.5), label smoothing 0.1 (DeiT).
# The trainer passes num_classes (the training folder's class count).
mixup = L(Mixup)(
    mixup_alpha=0.8,
    cutmix_alpha=1.0,
    prob=1.0,
    switch_prob=0.5,
    mode="batch",
    label_smoothing=0.1,
)

# timm.utils.ModelEmaV3 when set, e.g. L(ModelEmaV3)(decay=0.99996); the trainer passes the model.
ema = None

train = dict(
    output_dir="output/classification/run",
    epochs=300,
    batch_size=128,  # images per process
    val_batch_size=256,
    num_workers=8,
    repeats=3,  # instance repetition (timm RepeatAugSampler); 0 = off
    lr_base_batch=None,  # optimizer.lr is for this global batch (linear scaling); None = as given
    clip_grad=None,
    label_smoothing=0.1,  # used only without mixup
    amp="auto",  # on with CUDA
    log_period=50,
    eval_period=1,
    checkpoint_period=0,
    init_checkpoint="",
    grad_checkpointing=False,
    seed=0,
    device="auto",
)
