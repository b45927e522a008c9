"""What every classification config shares: timm's Mixup/CutMix with label smoothing, no EMA, and the
settings the classification task (:mod:`lgvit_cls.engine`) reads; this file is their one source."""

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
    batch_size=128,  # images per process and micro-batch
    accum_steps=1,  # micro-batches per optimizer step (gradient accumulation)
    val_batch_size=256,
    num_workers=8,
    repeats=3,  # instance repetition (timm RepeatAugSampler); 0 = off
    lr_base_batch=None,  # optimizer.lr is for this global batch (linear scaling); None = as given
    clip_grad=None,
    label_smoothing=0.1,  # used only without mixup
    amp=dict(enabled=True),  # used on CUDA only (bf16 where supported, else fp16); the log says so on CPU
    log_period=50,  # optimizer steps between log lines
    eval_period=1,  # epochs between evaluations on dataloader.val (0: only at the end)
    checkpoint_period=1,  # epochs between checkpoints (model_<iter>.pth; model_final.pth at the end)
    init_checkpoint="",
    grad_checkpointing=False,
    seed=0,
    device="auto",  # "cpu", "cuda" or "auto" (CUDA when there is one)
)
