"""Train/test clip pipelines: thin dict-key wrappers (pytorchvideo style) around :mod:`.functional`.

A sample is a dict; the pipelines transform ``sample["video"]`` and leave the other keys alone.
Classes rather than lambdas, so DataLoader workers can pickle them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from . import functional as VF


class ApplyToKey:
    """Applies ``fn`` to ``sample[key]`` (pytorchvideo's ``ApplyTransformToKey``)."""

    def __init__(self, key: str, fn: Callable[[torch.Tensor], torch.Tensor]):
        self.key, self.fn = key, fn

    def __call__(self, sample: dict[str, Any]) -> dict[str, Any]:
        return {**sample, self.key: self.fn(sample[self.key])}


class TrainClip:
    """uint8 ``(C, T, H, W)`` -> float: shorter side random in ``[min_size, max_size]``, random
    ``crop_size`` crop, horizontal flip with probability ``flip_prob`` (0 for SSv2, whose labels say
    left/right), normalisation."""

    def __init__(
        self,
        min_size: int = 256,
        max_size: int = 320,
        crop_size: int = 224,
        flip_prob: float = 0.5,
        mean: Sequence[float] = VF.IMAGENET_MEAN,
        std: Sequence[float] = VF.IMAGENET_STD,
    ):
        if not crop_size <= min_size <= max_size:
            raise ValueError(
                f"need crop_size <= min_size <= max_size, got {crop_size}, {min_size}, {max_size}"
            )
        self.min_size, self.max_size, self.crop_size, self.flip_prob = (
            min_size,
            max_size,
            crop_size,
            flip_prob,
        )
        self.mean, self.std = tuple(mean), tuple(std)

    def __call__(self, video: torch.Tensor) -> torch.Tensor:
        video = VF.random_short_side_scale(VF.to_float(video), self.min_size, self.max_size)
        video = VF.random_crop(video, self.crop_size)
        if self.flip_prob > 0:
            video = VF.random_horizontal_flip(video, self.flip_prob)
        return VF.normalize(video, self.mean, self.std)


class EvalClip:
    """uint8 ``(C, T, H, W)`` -> float ``(num_crops, C, T, crop, crop)``: shorter side ``short_side``,
    then 3 crops along the longer side (left/top, centre, right/bottom) or 1 centre crop."""

    def __init__(
        self,
        short_side: int = 256,
        crop_size: int = 224,
        num_crops: int = 3,
        mean: Sequence[float] = VF.IMAGENET_MEAN,
        std: Sequence[float] = VF.IMAGENET_STD,
    ):
        if num_crops not in (1, 3):
            raise ValueError(f"num_crops must be 1 (centre) or 3, got {num_crops}")
        if crop_size > short_side:
            raise ValueError(f"crop_size {crop_size} is larger than short_side {short_side}")
        self.short_side, self.crop_size, self.num_crops = short_side, crop_size, num_crops
        self.mean, self.std = tuple(mean), tuple(std)

    def __call__(self, video: torch.Tensor) -> torch.Tensor:
        video = VF.normalize(VF.short_side_scale(VF.to_float(video), self.short_side), self.mean, self.std)
        if self.num_crops == 1:
            return VF.uniform_crop(video, self.crop_size, 1).unsqueeze(0)
        return VF.three_crop(video, self.crop_size)


def train_transform(**kwargs: Any) -> ApplyToKey:
    """Dict pipeline for training; kwargs go to :class:`TrainClip`."""
    return ApplyToKey("video", TrainClip(**kwargs))


def eval_transform(**kwargs: Any) -> ApplyToKey:
    """Dict pipeline for 1- or 3-crop testing; kwargs go to :class:`EvalClip`."""
    return ApplyToKey("video", EvalClip(**kwargs))
