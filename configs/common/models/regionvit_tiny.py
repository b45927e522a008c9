"""A narrow, shallow RegionViT for CPU runs on the synthetic data: the RegionViT-Ti layout (3-conv stem,
window 7, detection norms) at half width and 1-1-2-1 depth, ~1.6M parameters, built from the registered
``regionvit_ti`` by overriding its architecture kwargs. Trained from scratch, so no drop path."""

from detectron2.config import LazyCall as L

import lgvit

regionvit_tiny = L(lgvit.create_model)(
    name="regionvit_ti",
    num_classes=0,
    out_norms=True,
    drop_path_rate=0.0,
    dims=(32, 64, 128, 256),
    depths=(1, 1, 2, 1),
    heads=(1, 2, 4, 8),
)
