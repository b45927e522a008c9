"""Multi-scale training augmentation of the 3x schedule (paper A.2).

The paper adopts "the stronger data augmentation (multi-scale training) used in Swin or Twins" for 3x;
the official configs (``detection/configs/*_3x_ms.yaml``: ``AUG_MODE: "DETR"``) use the DETR recipe
that Swin follows: after a random horizontal flip, with probability 1/2 either

* resize the shorter side to a random scale in ``scales`` (longer side capped at ``max_size``), or
* resize the shorter side to one of ``crop_resize`` (400/500/600), take a random crop of 384..600
  pixels per side, then resize as in the first branch.

The official scales are 480..896 in steps of 32 with the 1x cap of 1,120 on the longer side.
"""

from __future__ import annotations

from collections.abc import Sequence

import detectron2.data.transforms as T
import numpy as np

__all__ = ["RandomChoice", "multiscale_augmentations", "OFFICIAL_3X_SCALES"]

OFFICIAL_3X_SCALES = tuple(range(480, 897, 32))  # (480, 512, ..., 896), as in the official 3x configs


class RandomChoice(T.Augmentation):
    """Applies one of several augmentation sequences, chosen uniformly at random.

    Each choice is a list applied in order (like :class:`detectron2.data.transforms.AugmentationList`),
    so a crop can depend on the size produced by the resize before it.
    """

    def __init__(self, choices: Sequence[Sequence[T.Augmentation]]):
        super().__init__()
        if not choices:
            raise ValueError("RandomChoice needs at least one choice")
        self.choices = [T.AugmentationList(list(c)) for c in choices]

    def __call__(self, aug_input: T.AugInput) -> T.Transform:
        i = int(np.random.randint(len(self.choices)))
        return self.choices[i](aug_input)

    def get_transform(self, *args):  # pragma: no cover - a sequence cannot be planned in one step
        raise NotImplementedError("RandomChoice applies sequences; call it on an AugInput")


def multiscale_augmentations(
    scales: Sequence[int] = OFFICIAL_3X_SCALES,
    max_size: int = 1120,
    crop_resize: Sequence[int] = (400, 500, 600),
    crop_range: tuple[int, int] = (384, 600),
) -> list[T.Augmentation]:
    """The 3x training augmentations (see the module docstring). Use with ``recompute_boxes=True``
    in ``DatasetMapper`` when masks are present, since cropping cuts boxes."""
    resize = T.ResizeShortestEdge(short_edge_length=tuple(scales), max_size=max_size, sample_style="choice")
    return [
        T.RandomFlip(horizontal=True),
        RandomChoice(
            [
                [resize],
                [
                    T.ResizeShortestEdge(short_edge_length=tuple(crop_resize), sample_style="choice"),
                    T.RandomCrop("absolute_range", crop_range),
                    resize,
                ],
            ]
        ),
    ]
