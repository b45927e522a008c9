import torch
from detectron2.config import LazyCall as L

from lgvit import param_groups_weight_decay

# RegionViT A.4: AdamW, base lr 2e-4, weight decay 1e-4 (no decay on norms, biases, rel-pos tables,
# time embedding). The runner sets params.model.
optimizer = L(torch.optim.AdamW)(
    params=L(param_groups_weight_decay)(weight_decay=1e-4),
    lr=2e-4,
    betas=(0.9, 0.999),
    weight_decay=1e-4,
)
