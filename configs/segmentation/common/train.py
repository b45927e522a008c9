"""Training options: Detectron2's ``common/train.py`` with the ADE20K recipe's 80k iterations (paper A.3),
evaluation and checkpoints every 8k, the device chosen by what is there (our train_net turns AMP off on
CPU; Detectron2's stock ``lazyconfig_train_net.py`` reads the same keys)."""

import torch
from detectron2 import model_zoo

train = model_zoo.get_config("common/train.py").train
train.max_iter = 80000
train.amp.enabled = True
train.checkpointer.period = 8000
train.eval_period = 8000
train.device = "cuda" if torch.cuda.is_available() else "cpu"
train.seed = -1
