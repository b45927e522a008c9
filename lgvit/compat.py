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
