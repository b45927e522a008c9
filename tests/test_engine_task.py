"""The epoch-based schedule shared by classification and video (:class:`lgvit_engine.EpochTask`): steps per
epoch, the iteration count (with its cap) and the checkpoint/evaluation periods, from the config alone."""

from __future__ import annotations

import pytest
from lgvit_cls.engine import ClassificationTask
from lgvit_engine import ConfigError, EpochTask
from omegaconf import OmegaConf

from video.engine.task import VideoTask


class Fixed(EpochTask):
    """An epoch of ``n`` samples per process."""

    def __init__(self, n: int):
        self.n = n

    def epoch_size(self, cfg):
        return self.n


def cfg(**train):
    return OmegaConf.create({"train": {"epochs": 3, "batch_size": 4, **train}})


@pytest.mark.parametrize(
    ("n", "train", "steps"),
    [
        (24, {}, 6),
        (27, {}, 6),  # the last incomplete batch is dropped
        (24, {"accum_steps": 2}, 3),
        (31, {"accum_steps": 2}, 3),  # 7 micro-batches: the last incomplete step is dropped
        (8, {"batch_size": 8}, 1),
    ],
)
def test_steps_per_epoch_and_max_iter(n, train, steps):
    c = cfg(**train)
    assert Fixed(n).steps_per_epoch(c) == steps
    assert Fixed(n).max_iter(c) == 3 * steps


def test_max_iter_is_capped_by_train_max_iter():
    assert Fixed(24).max_iter(cfg(max_iter=4)) == 4
    assert Fixed(24).max_iter(cfg(max_iter=100)) == 18  # a cap, not a target
    assert Fixed(24).max_iter(cfg(max_iter=None)) == 18


def test_a_batch_larger_than_an_epoch_is_refused():
    with pytest.raises(ConfigError, match=r"batch_size=4 x train.accum_steps=2 is more than the 7 .*lower"):
        Fixed(7).steps_per_epoch(cfg(accum_steps=2))


@pytest.mark.parametrize(
    ("train", "expected"),
    [
        ({}, dict(checkpoint=6, eval=0, log=20)),  # a checkpoint per epoch, evaluation at the end
        ({"checkpoint_period": 2, "eval_period": 1, "log_period": 5}, dict(checkpoint=12, eval=6, log=5)),
        ({"checkpoint_period": 0}, dict(checkpoint=18, eval=0, log=20)),  # 0: only at the end
        ({"checkpointer": {"period": 4}, "checkpoint_period": 2}, dict(checkpoint=4, eval=0, log=20)),
        ({"checkpointer": {"period": None}, "accum_steps": 2}, dict(checkpoint=3, eval=0, log=20)),
    ],
)
def test_periods_in_epochs_or_checkpointer_iterations(train, expected):
    assert Fixed(24).periods(cfg(**train)) == expected


def test_classification_and_video_share_it():
    for task in (ClassificationTask, VideoTask):
        assert issubclass(task, EpochTask)
        for name in ("steps_per_epoch", "max_iter", "periods"):
            assert name not in vars(task) or name == "max_iter" and task is VideoTask, (task, name)
