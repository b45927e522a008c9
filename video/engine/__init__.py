"""The video task on the one training runtime (:mod:`lgvit_engine`): datasets and their resumable sharded
loader, mixup + soft cross-entropy, multi-view evaluation with per-video predictions."""

from .evaluate import evaluate, view_scores
from .task import VideoTask, run, soft_cross_entropy

__all__ = ["VideoTask", "evaluate", "run", "soft_cross_entropy", "view_scores"]
