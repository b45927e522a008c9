"""Parameters and FLOPs of whole detectors, beside the paper's Table 5 / A4.

FLOPs follow Detectron2's ``FlopCountAnalysis`` (fvcore conventions: one multiply-add = one FLOP) with
our handle for fused attention (``aten::scaled_dot_product_attention``, which fvcore would skip), on one
image in inference mode. The paper does not state its input size; we count at 1280x800 (W x H), the
size Swin/Twins, whose tables RegionViT compares against, use for detection FLOPs. Heads after the
proposal stage depend on how many boxes survive (1000 proposals into the box head here; the mask and
keypoint heads run on the final detections of random weights), which makes those FLOPs approximate.
"""

from __future__ import annotations

import os
from typing import Any

import torch
import torch.nn as nn
from detectron2.config import instantiate
from torch.overrides import TorchFunctionMode
from torch.utils._device import _device_constructors

from .engine import load_config
from .paper import PAPER, VARIANTS

__all__ = ["PAPER_CONFIGS", "MetaBuild", "count_params", "detector_flops", "detector_params"]

# (detector, variant) of the paper's tables -> our 1x config
PAPER_CONFIGS = {key: f"configs/COCO/{key[0]}_regionvit_{key[1]}_1x.py" for key in PAPER}
assert all(v in VARIANTS for _, v in PAPER)


class MetaBuild(TorchFunctionMode):
    """Builds modules on the ``meta`` device: shapes and parameter counts without memory or random
    initialisation (RegionViT-B Mask R-CNN in ~1 s instead of ~10 s on 2 cores).

    Unlike ``with torch.device("meta")``, ``torch.linspace`` stays on the CPU: lgvit models compute
    their drop-path schedule with ``torch.linspace(...).tolist()``, which cannot read a meta tensor.
    """

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        if func in _device_constructors() and kwargs.get("device") is None and func is not torch.linspace:
            kwargs["device"] = "meta"
        return func(*args, **kwargs)


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def detector_params(config_file: str | os.PathLike, opts: list[str] | None = None) -> int:
    """Parameter count of ``cfg.model`` (built on the meta device, see :class:`MetaBuild`)."""
    with MetaBuild():
        return count_params(instantiate(load_config(str(config_file), opts).model))


def detector_flops(model: nn.Module, height: int = 800, width: int = 1280, seed: int = 0) -> dict[str, Any]:
    """GFLOPs of one ``height x width`` image through ``model`` in eval mode, total and per module."""
    from detectron2.utils.analysis import FlopCountAnalysis

    from lgvit.flops import sdpa_flop_jit

    torch.manual_seed(seed)
    image = torch.rand(3, height, width) * 255
    model = model.eval()
    with torch.no_grad():
        analysis = FlopCountAnalysis(model, [{"image": image}])
        analysis.set_op_handle("aten::scaled_dot_product_attention", sdpa_flop_jit)
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        by_module = analysis.by_module()
        total = analysis.total()
    parts = {
        k: by_module.get(k, 0) / 1e9
        for k in ("backbone.bottom_up", "backbone", "proposal_generator", "roi_heads", "head")
    }
    return dict(gflops=total / 1e9, by_module=parts, size=(height, width))
