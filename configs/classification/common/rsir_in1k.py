"""RSIR's ImageNet-1K recipe (RSIR 4.1, "mostly follows [Swin]"): AdamW for 300 epochs, cosine decay
with 20 epochs of linear warm-up, batch size 256, initial lr 0.001 (at that global batch, scaled
linearly to the batch used), weight decay 0.05, 224x224 images; "most of the augmentation and
regularization strategies" of Swin (:mod:`.swin_in1k`: RandAugment, Mixup/CutMix, random erasing, label
smoothing, gradient clipping 5.0, drop path by size). An RSIR variant config::

    from .common.rsir_in1k import dataloader, ema, mixup, model, optimizer, scheduler, train
    model.name = "rsir_t"
"""

from .swin_in1k import dataloader, ema, mixup, model, optimizer, scheduler, train

optimizer.lr = 1e-3
optimizer.weight_decay = 0.05
scheduler.warmup_epochs = 20
train.update(epochs=300, batch_size=128, lr_base_batch=256)
