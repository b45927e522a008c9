"""Mixup / CutMix on a clip batch (RegionViT A.4: "the same Mixup, CutMix ... as in image
classification"). Uses pytorchvideo's ``MixVideo`` (one box for all frames of a clip)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


class MixupCutmix:
    """``(videos (B, C, T, H, W), labels (B,)) -> (mixed videos, soft targets (B, num_classes))``.

    With probability ``prob`` the batch is mixed (CutMix with probability ``cutmix_prob``, else Mixup;
    each mixes a clip with the batch reversed); otherwise only label smoothing is applied. A batch of
    one clip cannot be mixed and is returned with smoothed labels.
    """

    def __init__(
        self,
        num_classes: int,
        mixup_alpha: float = 0.8,
        cutmix_alpha: float = 1.0,
        cutmix_prob: float = 0.5,
        prob: float = 1.0,
        label_smoothing: float = 0.1,
    ):
        from lgvit.compat import torchvision_functional_tensor_alias

        torchvision_functional_tensor_alias()  # pytorchvideo.transforms imports a removed torchvision module
        from pytorchvideo.transforms import MixVideo

        self.num_classes, self.prob, self.label_smoothing = num_classes, prob, label_smoothing
        self.mix = MixVideo(
            cutmix_prob=cutmix_prob,
            mixup_alpha=mixup_alpha,
            cutmix_alpha=cutmix_alpha,
            label_smoothing=label_smoothing,
            num_classes=num_classes,
        )

    def smooth(self, labels: torch.Tensor) -> torch.Tensor:
        off = self.label_smoothing / self.num_classes
        return F.one_hot(labels, self.num_classes).float() * (1.0 - self.label_smoothing) + off

    def __call__(self, videos: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if videos.shape[0] < 2 or float(torch.rand(1)) >= self.prob:
            return videos, self.smooth(labels)
        return self.mix(videos.clone(), labels)
