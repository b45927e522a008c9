"""Parameters and FLOPs of whole detectors, beside the paper's Table 5 / A4.

FLOPs follow Detectron2's ``FlopCountAnalysis`` (fvcore conventions: one multiply-add = one FLOP) with
our handle for fused attention (``aten::scaled_dot_product_attention``, which fvcore would skip), on one
image in inference mode. The paper does not state the input size of its FLOP counts; at its test size,
1120x672 (W x H), ours reproduce Table 5 to 0.1 GFLOPs (RetinaNet-S 192.7 vs 192.6, Mask R-CNN-S 171.4
vs 171.3, Mask R-CNN-S+ w/ PEG 183.1 vs 183.0), so that is the default here. At 1280x800 (the size
Swin/Twins use) they are 1.42x higher (276.6 and 242.5).

Heads after the proposal stage depend on how many boxes survive: the box head sees 1000 proposals;
mask and keypoint heads run once per final detection (up to ``test_topk_per_image``, 100). Randomly
initialised 80-class models keep none (every class score is below the 0.05 threshold), which is what
Table 5 counts; the 1-class Keypoint R-CNN keeps all 100 (8 convs of 512 channels at 14x14, ~3.5
GFLOPs each), so ``max_detections`` caps them. With none, Keypoint R-CNN S+ w/ PEG counts 182.7 (the
Mask R-CNN S+ w/ PEG trunk, as expected); Table A4's 172.2 is below the paper's own count for that trunk
(183.0), so it was presumably measured at another input size.
"""

from __future__ import annotations

import os
from typing import Any

import torch
import torch.nn as nn
from detectron2.config import instantiate
from lgvit_det.engine import load_config

from .reference import DETECTION

__all__ = ["PAPER_CONFIGS", "count_params", "detector_flops", "detector_params"]

# (detector, backbone model) of the papers' tables -> our 1x config
PAPER_CONFIGS = {key: f"configs/COCO/{key[0]}_{key[1]}_1x.py" for key in DETECTION}


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def detector_params(config_file: str | os.PathLike, opts: list[str] | None = None) -> int:
    """Parameter count of ``cfg.model``, built on the meta device (shapes without memory or random
    initialisation: RegionViT-B Mask R-CNN in ~1 s instead of ~10 s on 2 cores)."""
    with torch.device("meta"):
        return count_params(instantiate(load_config(str(config_file), opts).model))


def detector_flops(
    model: nn.Module, height: int = 672, width: int = 1120, seed: int = 0, max_detections: int | None = None
) -> dict[str, Any]:
    """GFLOPs of one ``height x width`` image through ``model`` in eval mode, total and per module.
    ``max_detections`` caps the final detections of R-CNN models (their mask/keypoint head runs)."""
    from detectron2.utils.analysis import FlopCountAnalysis

    from lgvit.flops import sdpa_flop_jit

    torch.manual_seed(seed)
    image = torch.rand(3, height, width) * 255
    model = model.eval()
    predictor = getattr(getattr(model, "roi_heads", None), "box_predictor", None)
    if max_detections is not None and predictor is not None:
        predictor.test_topk_per_image = max_detections
    with torch.no_grad():
        analysis = FlopCountAnalysis(model, [{"image": image}])
        analysis.set_op_handle("aten::scaled_dot_product_attention", sdpa_flop_jit)
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        by_module = analysis.by_module()
        total = analysis.total()
    # Detectron2 wraps the model (input flattening): its module names start with "model."
    parts = {
        k: by_module.get(f"model.{k}", 0) / 1e9
        for k in ("backbone.bottom_up", "backbone", "proposal_generator", "roi_heads", "head")
    }
    return dict(gflops=total / 1e9, by_module=parts, size=(height, width))
