"""Training options read by ``projects/LGViTDet/train_net.py`` and Detectron2's stock
``lazyconfig_train_net.py``. AMP is used on CUDA; on CPU our train_net turns it off (and says so)."""

import torch

train = dict(
    output_dir="./output",
    init_checkpoint="",  # a detector checkpoint, or a classification one (ours/official) for ours
    max_iter=90000,
    amp=dict(enabled=True),
    ddp=dict(broadcast_buffers=False, find_unused_parameters=False, fp16_compression=False),
    checkpointer=dict(period=5000, max_to_keep=100),
    eval_period=5000,
    log_period=20,
    device="cuda" if torch.cuda.is_available() else "cpu",
    seed=-1,
)
