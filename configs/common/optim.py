"""The optimizer of every Detectron2 task here: Detectron2's ``common/optim.py`` AdamW (lr 1e-4, betas 0.9 /
0.999) with the weight decay of the papers' recipes, 0.05 (RegionViT A.2 / A.3), and none on norms,
biases, relative-position tables and tokens: the parameter groups come from what the lgvit model
declares (``no_weight_decay()``; :func:`lgvit_det.detector_param_groups`) instead of Detectron2's
``get_default_optimizer_params``, which knows norms and biases only. The trainer sets
``optimizer.params.model`` before instantiating (Detectron2's lazy-config protocol)."""

from detectron2 import model_zoo
from detectron2.config import LazyCall as L
from lgvit_det import detector_param_groups

AdamW = model_zoo.get_config("common/optim.py").AdamW
AdamW.params = L(detector_param_groups)(weight_decay="${..weight_decay}")
AdamW.weight_decay = 0.05
