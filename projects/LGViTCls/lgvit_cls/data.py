"""Image-folder datasets for classification, with the checks a user needs when a folder is wrong.

The layout is torchvision's ``ImageFolder`` (``root/<class name>/<image>``; ImageNet's ``train/`` and
``val/`` both need it). On top of torchvision's loader this module

* refuses a missing root, a root without class folders and class folders without images, naming them;
* skips unreadable or truncated images instead of failing the run: each is logged (by path, once) and
  reaches the trainer as an :class:`Unreadable` sample that :func:`collate_skipping` drops and counts;
* checks that a training and a validation folder hold the same classes (:func:`check_same_classes`).

Transforms come from ``timm.data.create_transform`` (configs describe them); samplers are timm's
``RepeatAugSampler`` (DeiT's instance repetition) or torch's ``DistributedSampler`` (:func:`train_sampler`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from PIL import Image
from torch.utils.data import Dataset, Sampler
from torchvision.datasets.folder import IMG_EXTENSIONS, has_file_allowed_extension

__all__ = [
    "ImageFolderDataset",
    "Unreadable",
    "check_same_classes",
    "collate_skipping",
    "image_folder",
    "train_sampler",
]

logger = logging.getLogger("lgvit_cls")


@dataclass(frozen=True)
class Unreadable:
    """Stands in for an image that could not be decoded (``path``, ``reason``); dropped by the collate."""

    path: str
    reason: str


class ImageFolderDataset(Dataset):
    """``root/<class>/<image>`` -> ``(transform(RGB PIL image), class index)``.

    Classes are the sorted sub-folder names (as torchvision's ``ImageFolder``). An image that cannot be
    read (truncated, not an image, unreadable) gives an :class:`Unreadable` sample and a warning naming
    it, once per file and process.
    """

    def __init__(self, root: str | os.PathLike, transform: Callable[[Image.Image], Any] | None = None):
        self.root = os.fspath(root)
        self.transform = transform
        if not os.path.isdir(self.root):
            raise FileNotFoundError(
                f"image folder {self.root!r} does not exist; expected {self.root}/<class name>/<image files> "
                "(e.g. export the digits with: python tools/export_digits.py --out datasets/digits)"
            )
        self.classes = sorted(e.name for e in os.scandir(self.root) if e.is_dir())
        if not self.classes:
            raise ValueError(
                f"image folder {self.root!r} has no class sub-folders; "
                f"expected {self.root}/<class name>/<images>"
            )
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}
        self.samples: list[tuple[str, int]] = []
        empty = []
        for c in self.classes:
            files = []
            for dirpath, _, names in sorted(os.walk(os.path.join(self.root, c), followlinks=True)):
                files += [
                    os.path.join(dirpath, n)
                    for n in sorted(names)
                    if has_file_allowed_extension(n, IMG_EXTENSIONS)
                ]
            if not files:
                empty.append(os.path.join(self.root, c))
            self.samples += [(f, self.class_to_idx[c]) for f in files]
        if empty:
            raise ValueError(
                f"{len(empty)} class folder(s) hold no images: {', '.join(empty[:10])}"
                f"{' ...' if len(empty) > 10 else ''}. Every sub-folder of {self.root!r} is a class; "
                f"add images "
                f"(extensions {', '.join(IMG_EXTENSIONS)}) or remove the folder."
            )
        self.targets = [t for _, t in self.samples]
        self._warned: set[str] = set()

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[Any, int] | Unreadable:
        path, target = self.samples[index]
        try:
            with Image.open(path) as im:
                image = im.convert("RGB")  # decodes fully: truncated files fail here
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
            if path not in self._warned:
                self._warned.add(path)
                logger.warning("skipping unreadable image %s (%s: %s)", path, type(e).__name__, e)
            return Unreadable(path, f"{type(e).__name__}: {e}")
        if self.transform is not None:
            image = self.transform(image)
        return image, target

    def __repr__(self) -> str:
        return f"ImageFolderDataset({self.root!r}, {len(self.classes)} classes, {len(self)} images)"


def image_folder(root: str | os.PathLike, transform: Callable | None = None) -> ImageFolderDataset:
    """Config entry point: ``L(image_folder)(root=..., transform=L(create_transform)(...))``."""
    return ImageFolderDataset(root, transform)


def check_same_classes(train: ImageFolderDataset, val: ImageFolderDataset) -> None:
    """Raises a ValueError naming the classes that only one of the two folders has."""
    if list(train.classes) == list(val.classes):
        return
    only_train = sorted(set(train.classes) - set(val.classes))
    only_val = sorted(set(val.classes) - set(train.classes))

    def names(items: list[str]) -> str:
        return ", ".join(items[:10]) + (f" ... (+{len(items) - 10})" if len(items) > 10 else "") or "none"

    raise ValueError(
        f"the training folder {train.root!r} ({len(train.classes)} classes) and the validation folder "
        f"{val.root!r} ({len(val.classes)} classes) hold different classes: only in training: "
        f"{names(only_train)}; only in validation: {names(only_val)}. Class indices come from the sorted "
        "folder names, so both need the same class folders."
    )


def collate_skipping(
    batch: Sequence[tuple[Any, int] | Unreadable],
) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """Stacks the readable samples; returns ``(images (B, 3, H, W), targets (B,), skipped paths)``."""
    good = [b for b in batch if not isinstance(b, Unreadable)]
    skipped = [b.path for b in batch if isinstance(b, Unreadable)]
    if not good:
        return torch.empty(0), torch.empty(0, dtype=torch.long), skipped
    images = torch.stack([b[0] for b in good])
    targets = torch.tensor([b[1] for b in good], dtype=torch.long)
    return images, targets, skipped


def train_sampler(dataset: Dataset, repeats: int, seed: int, rank: int, world_size: int) -> Sampler:
    """The training sampler: timm's ``RepeatAugSampler`` (each image ``repeats`` times per epoch, the
    copies on different processes: DeiT's instance repetition) when ``repeats > 1``, else torch's
    ``DistributedSampler``. Both are deterministic given ``set_epoch(epoch)``, which is all the state a
    resumed run needs."""
    if repeats > 1:
        from timm.data.distributed_sampler import RepeatAugSampler

        return RepeatAugSampler(
            dataset, num_replicas=world_size, rank=rank, shuffle=True, num_repeats=repeats
        )
    from torch.utils.data import DistributedSampler

    return DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=True, seed=seed)
