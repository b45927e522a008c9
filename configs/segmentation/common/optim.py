"""AdamW of the RegionViT segmentation recipe (paper A.3): Detectron2's ``common/optim.py`` AdamW with lr
1e-4, weight decay 0.05, and none on norms, biases, relative-position tables and tokens (declared by the
lgvit model; :func:`lgvit_det.detector_param_groups`)."""

from detectron2 import model_zoo
from detectron2.config import LazyCall as L
from lgvit_det import detector_param_groups

optimizer = model_zoo.get_config("common/optim.py").AdamW
optimizer.params = L(detector_param_groups)(weight_decay="${..weight_decay}")
optimizer.lr = 1e-4
optimizer.weight_decay = 0.05
