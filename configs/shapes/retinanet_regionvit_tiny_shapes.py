"""RetinaNet on the synthetic shapes (3 classes), tiny RegionViT, CPU-sized: the COCO 1x config with
small data and the shared CPU-tiny settings (``common/cpu_tiny.py``; P6/P7 still from C5). A few minutes
on 2 CPU cores."""

from ..COCO.retinanet_regionvit_s_1x import lr_multiplier, model, optimizer, train
from ..common.cpu_tiny import cpu_tiny
from ..common.data.shapes import dataloader

cpu_tiny(model, optimizer, lr_multiplier, train, "./output/retinanet_regionvit_tiny_shapes")
model.num_classes = 3
