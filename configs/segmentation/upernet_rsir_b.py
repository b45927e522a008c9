"""UperNet, RSIR-B backbone, ADE20K, 160k iterations (RSIR Table 6: 109M params, 1,210 GFLOPs at
512x2048, 51.9 mIoU single-scale); the RSIR-T recipe (Swin's UperNet setting) with the wider backbone."""

from .upernet_rsir_t import dataloader, lr_multiplier, model, optimizer, train

model.backbone.model.name = "rsir_b"
model.sem_seg_head.input_shape.channels = (96, 192, 384, 768)
train.output_dir = "./output/upernet_rsir_b"
