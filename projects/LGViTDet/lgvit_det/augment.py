"""Multi-scale training augmentation of the 3x schedule (paper A.2).

The paper adopts "the stronger data augmentation (multi-scale training) used in Swin or Twins" for 3x;
the official configs (``detection/configs/*_3x_ms.yaml``: ``AUG_MODE: "DETR"``) use the DETR recipe
that Swin follows: after a random horizontal flip, with probability 1/2 either

* resize the shorter side to a random scale in ``scales`` (longer side capped at ``max_size``), or
* resize the shorter side to one of ``crop_resize`` (400/500/600), take a random crop of 384..600
  pixels per side, then resize as in the first branch.

The official scales are 480..896 in steps of 32 with the 1x cap of 1,120 on the longer side.

Detectron2's ``CropTransform`` clips polygons with shapely, an optional dependency we do not install;
:class:`ClippingCrop` clips them to the crop window with Sutherland-Hodgman in numpy instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import detectron2.data.transforms as T
import numpy as np

__all__ = [
    "ClippingCrop",
    "RandomChoice",
    "RandomClippingCrop",
    "multiscale_augmentations",
    "OFFICIAL_3X_SCALES",
]

OFFICIAL_3X_SCALES = tuple(range(480, 897, 32))  # (480, 512, ..., 896), as in the official 3x configs


def clip_polygon(poly: np.ndarray, w: float, h: float) -> np.ndarray:
    """Sutherland-Hodgman: ``(N, 2)`` polygon clipped to ``[0, w] x [0, h]`` -> ``(M, 2)`` (M may be 0).

    A concave polygon cut into pieces stays one polygon joined by zero-area edges along the window
    border, which rasterises to the same mask."""
    for axis, limit, keep_below in ((0, 0.0, False), (0, w, True), (1, 0.0, False), (1, h, True)):
        if len(poly) == 0:
            break
        inside = poly[:, axis] <= limit if keep_below else poly[:, axis] >= limit
        out = []
        for i in range(len(poly)):
            cur, prev = poly[i], poly[i - 1]
            if inside[i] != inside[i - 1]:  # the edge crosses the border: add the crossing point
                t = (limit - prev[axis]) / (cur[axis] - prev[axis])
                out.append(prev + t * (cur - prev))
            if inside[i]:
                out.append(cur)
        poly = np.array(out, dtype=np.float64).reshape(-1, 2)
    return poly


class ClippingCrop(T.CropTransform):
    """``CropTransform`` whose polygons are clipped in numpy (no shapely). Polygons left with fewer than
    three points are dropped; an instance without polygons gets an empty mask."""

    def apply_polygons(self, polygons: list[np.ndarray]) -> list[np.ndarray]:
        out = []
        for p in polygons:
            q = clip_polygon(np.asarray(p, dtype=np.float64) - [self.x0, self.y0], self.w, self.h)
            if len(q) >= 3:
                out.append(q)
        return out


class RandomClippingCrop(T.RandomCrop):
    """``RandomCrop`` that returns a :class:`ClippingCrop`."""

    def get_transform(self, image):
        crop = super().get_transform(image)
        return ClippingCrop(crop.x0, crop.y0, crop.w, crop.h)


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
                    RandomClippingCrop("absolute_range", crop_range),
                    resize,
                ],
            ]
        ),
    ]
