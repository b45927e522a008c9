"""Training/evaluation engine: distributed setup, sampler, schedule, checkpoints, loops."""

from .evaluate import evaluate, view_scores
from .runner import run
from .trainer import Trainer, TrainSettings, soft_cross_entropy

__all__ = ["Trainer", "TrainSettings", "evaluate", "run", "soft_cross_entropy", "view_scores"]
