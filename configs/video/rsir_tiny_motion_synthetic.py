# A narrow 2-stage divided space-time RSIR on the generated motion-direction dataset: the RegionViT
# synthetic config with the backbone swapped (same data, optimiser and schedule). 32x32 input: 8x8 tokens
# at stride 4 (four RS/IR windows of 4x4 = 16 tokens), 4x4 at stride 8 (one window). Each frame is
# permuted on its own inside the attention; the temporal attention sees the frame-stable layout.
from .regionvit_tiny_motion_synthetic import dataloader, lr_multiplier, mixup, model, optimizer, train

model.backbone = "rsir_t"  # with the architecture kwargs below
model.pop("stem_convs")  # a RegionViT argument
model.dims = (32, 64)
model.depths = (1, 1)
model.heads = (2, 4)
model.window = 4

train.output_dir = "output/video/rsir_motion_synthetic"
