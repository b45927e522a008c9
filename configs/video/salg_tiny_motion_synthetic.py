# The motion-direction task of regionvit_tiny_motion_synthetic.py with a narrow 2-stage SALG backbone
# (one SALG stage with semantic regions and AGR tokens, then one normal stage): same data, schedule and
# video wrapper, only the backbone differs. 32x32 clips: an 8x8 map in stage 1 (2x2 regions after
# padding to the 7x7-window grid, coverage p = 1), 4x4 in stage 2.
from .regionvit_tiny_motion_synthetic import dataloader, lr_multiplier, mixup, model, optimizer, train

model.backbone = "salg_st"  # with the architecture kwargs below
del model.window, model.stem_convs  # RegionViT-only arguments
model.dims = (32, 64)
model.depths = (2, 1)
model.heads = (1, 2)
model.pads = (1,)
train.output_dir = "output/video/salg_motion_synthetic"
