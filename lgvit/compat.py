"""Compatibility shims, all in one place. Each says why it exists and which version needs it.

None of them changes behaviour: they only restore names that newer libraries removed, pointing at the
same functions. Call them explicitly right before importing the library that needs them.
"""

from __future__ import annotations

import importlib
import sys


def torchvision_functional_tensor_alias() -> None:
    """pytorchvideo 0.1.5 imports ``torchvision.transforms.functional_tensor``, which torchvision
    removed in 0.17 (its functions live in ``torchvision.transforms.functional`` /
    ``torchvision.transforms._functional_tensor``). Registers the old module name as an alias of the
    private module that holds exactly the same functions. No-op when the module still exists."""
    name = "torchvision.transforms.functional_tensor"
    if name in sys.modules:
        return
    try:
        importlib.import_module(name)
    except ImportError:
        sys.modules[name] = importlib.import_module("torchvision.transforms._functional_tensor")


def timm_posterize_zero_bits() -> None:
    """timm's RandAugment (``rand-m9-mstd0.5-inc1``, the DeiT/RegionViT recipe) asks Pillow to posterize
    to 0 bits whenever the sampled magnitude reaches its upper bound 10 (``PosterizeIncreasing``: 4 - 4
    bits). Pillow up to 12 returns a black image for that; Pillow 13 raises ``ValueError: bits must be
    between or equal to 1 and 8``, which stops training within a few batches (timm 1.0.31 still passes 0).
    Points timm's posterize ops at a function that gives Pillow 12's result for 0 bits and calls Pillow
    otherwise. No-op when Pillow accepts 0 bits."""
    from PIL import Image, ImageOps

    try:
        ImageOps.posterize(Image.new("L", (1, 1)), 0)
        return
    except ValueError:
        pass
    from timm.data import auto_augment

    if getattr(auto_augment, "_lgvit_posterize_zero_bits", False):
        return
    original = auto_augment.posterize

    def posterize(img, bits_to_keep, **kwargs):
        if bits_to_keep <= 0:  # Pillow <= 12: every bit masked off
            return img.point([0] * 256 * len(img.getbands()))
        return original(img, bits_to_keep, **kwargs)

    for name, fn in list(auto_augment.NAME_TO_OP.items()):
        if fn is original:
            auto_augment.NAME_TO_OP[name] = posterize
    auto_augment.posterize = posterize
    auto_augment._lgvit_posterize_zero_bits = True
