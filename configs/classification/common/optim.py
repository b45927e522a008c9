"""timm's optimizer and schedule: AdamW with parameter groups from the model (no weight decay on norms,
biases and the model's ``no_weight_decay()``; ``layer_decay`` adds layer-wise lr decay through its
``group_matcher()``), cosine decay with linear warm-up, stepped per optimizer update.

The trainer passes the model to the optimizer, and the optimizer, ``train.epochs`` and the number of
updates per epoch to the scheduler. ``optimizer.lr`` is the rate for the global batch
``train.lr_base_batch`` (scaled linearly to the batch actually used)."""

from detectron2.config import LazyCall as L
from timm.optim import create_optimizer_v2
from timm.scheduler import create_scheduler_v2

optimizer = L(create_optimizer_v2)(
    opt="adamw",
    lr=5e-4,
    weight_decay=0.05,
    betas=(0.9, 0.999),
    eps=1e-8,
    layer_decay=None,
)

scheduler = L(create_scheduler_v2)(
    sched="cosine",
    warmup_epochs=5,
    warmup_lr=1e-6,
    min_lr=1e-5,
    cooldown_epochs=0,
)
