"""SALG's ImageNet-1K recipe (SALG IV-A: "we follow most of training settings in Swin Transformer"):
300 epochs with 20 warm-up epochs, AdamW with weight decay 0.05, cosine decay, initial lr 0.0005 with
batch size 128 (taken as stated: 5e-4 at a global batch of 128, scaled linearly to the batch used),
Mixup, random erasing and label smoothing. The rest is Swin's (:mod:`.swin_in1k`): CutMix 1.0,
RandAugment m=9 n=2, gradient clipping 5.0, drop path by size. A SALG variant config::

    from .common.salg_in1k import dataloader, ema, mixup, model, optimizer, scheduler, train
    model.name = "salg_t"
"""

from .swin_in1k import dataloader, ema, mixup, model, optimizer, scheduler, train

optimizer.lr = 5e-4
optimizer.weight_decay = 0.05
scheduler.warmup_epochs = 20
train.update(epochs=300, batch_size=128, lr_base_batch=128)
