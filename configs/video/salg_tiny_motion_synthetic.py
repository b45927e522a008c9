# The motion-direction task of regionvit_tiny_motion_synthetic.py with a narrow 2-stage SALG backbone
# (one SALG stage with semantic regions and AGR tokens, then one normal stage): same data, schedule and
# video wrapper, only the backbone differs. 32x32 clips: an 8x8 map in stage 1 (2x2 regions of the 4x4
# windows, coverage p = 1: 6x6 areas), 4x4 in stage 2 (one window). It does not learn the task yet (see
# tests/test_salg_train.py for what was measured).
from .regionvit_tiny_motion_synthetic import dataloader, lr_multiplier, mixup, model, optimizer, train

model.backbone = "salg_st"  # with the architecture kwargs below
del model.stem_convs  # SALG's stem is the paper's 3-conv one (stem_convs=1 is measured in the test)
model.dims = (32, 64)
model.depths = (2, 1)
model.heads = (1, 2)
model.pads = (1,)
# model.window stays 4 (RegionViT's value above): the paper's 7x7 windows would pad the 8x8 map to 14x14
train.epochs = 32  # as RSIR, whose tokens also carry no absolute position
train.output_dir = "output/video/salg_motion_synthetic"
