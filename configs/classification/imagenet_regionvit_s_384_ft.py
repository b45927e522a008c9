"""Fine-tunes a 224x224 RegionViT-S checkpoint at 384x384 (RegionViT A.1 and Table A1, "Finetune to
IN1K@384"): window 7 -> 12 so stage 1 keeps its number of regional tokens, the relative-position tables
and the regional tokenizer upsampled bicubically from the checkpoint (the family's checkpoint filter);
30 epochs, AdamW lr 2e-4 at batch 1,024 (Table A1; the text says 0.002), weight decay 1e-8, cosine
without warm-up; same augmentation with random erasing 0.25, drop path 0.1 (Table A1 gives no
fine-tune value: the IN1K one); evaluation resizes to 384 and takes the centre 384 crop.

    python projects/LGViTCls/train_net.py \\
        --config-file configs/classification/imagenet_regionvit_s_384_ft.py \\
        train.init_checkpoint=output/classification/imagenet_regionvit_s/model_final.pth
"""

from .imagenet_regionvit_s import dataloader, ema, mixup, model, optimizer, scheduler, train

model.window = 12
dataloader.train.transform.input_size = 384
dataloader.val.transform.input_size = 384
dataloader.val.transform.crop_pct = 1.0
optimizer.lr = 2e-4
optimizer.weight_decay = 1e-8
scheduler.warmup_epochs = 0
train.update(
    output_dir="output/classification/imagenet_regionvit_s_384_ft",
    epochs=30,
    batch_size=32,
    lr_base_batch=1024,
    init_checkpoint="output/classification/imagenet_regionvit_s/model_final.pth",
)
