"""UperNet, RSIR-T backbone, ADE20K, 160k iterations (RSIR Table 6: 57M params, 956 GFLOPs at 512x2048,
49.9 mIoU single-scale). RSIR "followed Swin's experimental settings" (section 4.4), i.e. the mmsegmentation
UperNet recipe of Swin: 512x512 crops from images resized to (2048, 512) x [0.5, 2.0], flip, batch 16,
AdamW lr 6e-5, weight decay 0.01 (none on norms and biases), 1,500 linear warm-up iterations then a
linear (poly, power 1) decay, drop path 0.3; evaluation at shorter side 512 (longer <= 2,048).
"""

import detectron2.data.transforms as T
from detectron2.config import LazyCall as L

from ..common.optim import AdamW as optimizer
from .common.data.ade20k import dataloader
from .common.models.upernet_lgvit import model
from .common.schedule import lr_multiplier
from .common.train import train

model.backbone.model.update(name="rsir_t", drop_path_rate=0.3)
model.sem_seg_head.input_shape.channels = (64, 128, 256, 512)

# mmseg's Resize(img_scale=(2048, 512), ratio_range=(0.5, 2.0)) as Detectron2 augmentations
dataloader.train.mapper.augmentations[0] = L(T.ResizeShortestEdge)(
    short_edge_length=[int(512 * r / 10) for r in range(5, 21)], max_size=2048, sample_style="choice"
)
dataloader.train.mapper.augmentations[1].crop_size = (512, 512)
dataloader.test.mapper.augmentations = [L(T.ResizeShortestEdge)(short_edge_length=512, max_size=2048)]

optimizer.update(lr=6e-5, weight_decay=0.01)
lr_multiplier.scheduler.power = 1.0
lr_multiplier.update(warmup_length=1500 / 160000, warmup_factor=1e-6)
train.update(max_iter=160000, eval_period=16000, output_dir="./output/upernet_rsir_t")
train.checkpointer.period = 16000
