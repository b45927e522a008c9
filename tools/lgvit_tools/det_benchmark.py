"""Speed of Mask R-CNN with a RegionViT backbone vs Detectron2's own Swin-T backbone
(``detectron2.modeling.backbone.SwinTransformer``) under the same FPN and heads, input and run.

Both detectors come from the same lazy config (``configs/COCO/mask_rcnn_regionvit_s_1x.py``); only
``model.backbone.bottom_up`` (and FPN's input names) differ. Trials alternate between the two models so
that machine load drifts affect both alike. Training iterations use AdamW on synthetic targets (a few
boxes with rectangular polygon masks per image); inference runs in eval mode without gradients.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import torch
import torch.nn as nn
from detectron2.config import LazyCall as L
from detectron2.config import instantiate
from detectron2.modeling.backbone import SwinTransformer
from detectron2.structures import Boxes, Instances, PolygonMasks
from detectron2.utils.events import EventStorage
from lgvit_det.engine import load_config

__all__ = ["build_pair", "run_benchmark", "synthetic_batch"]

SWIN_T = dict(embed_dim=96, depths=(2, 2, 6, 2), num_heads=(3, 6, 12, 24), window_size=7, drop_path_rate=0.2)


def build_pair(config_file: str, opts: list[str] | None = None, device: str = "cpu") -> dict[str, nn.Module]:
    """``{"regionvit": ..., "swin_t": ...}``: the config's Mask R-CNN, and the same with Swin-T."""
    cfg = load_config(config_file, opts)
    models = {"regionvit": instantiate(cfg.model)}
    cfg.model.backbone.bottom_up = L(SwinTransformer)(**SWIN_T, out_indices=(0, 1, 2, 3))
    cfg.model.backbone.in_features = ["p0", "p1", "p2", "p3"]  # Swin's names for strides 4..32
    models["swin_t"] = instantiate(cfg.model)
    return {k: m.to(device) for k, m in models.items()}


def synthetic_batch(
    batch: int, height: int, width: int, num_classes: int, device: str, seed: int = 0
) -> list[dict]:
    """Images ``(3, H, W)`` in 0..255 with 3 boxes each (and their rectangles as polygon masks)."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(batch):
        xy = torch.rand(3, 2, generator=g) * torch.tensor([width * 0.6, height * 0.6])
        wh = (0.1 + 0.3 * torch.rand(3, 2, generator=g)) * torch.tensor([width, height])
        boxes = torch.cat([xy, xy + wh], dim=1)
        inst = Instances((height, width))
        inst.gt_boxes = Boxes(boxes)
        inst.gt_classes = torch.randint(num_classes, (3,), generator=g)
        inst.gt_masks = PolygonMasks([[b[[0, 1, 2, 1, 2, 3, 0, 3]].numpy()] for b in boxes])
        image = torch.rand(3, height, width, generator=g) * 255
        out.append(
            {"image": image.to(device), "instances": inst.to(device), "height": height, "width": width}
        )
    return out


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _timed(fn: Callable[[], Any], device: str) -> float:
    _sync(device)
    t0 = time.perf_counter()
    fn()
    _sync(device)
    return time.perf_counter() - t0


def run_benchmark(
    config_file: str = "configs/COCO/mask_rcnn_regionvit_s_1x.py",
    height: int = 672,
    width: int = 1120,
    batch: int = 2,
    iters: int = 3,
    warmup: int = 1,
    device: str | None = None,
    opts: list[str] | None = None,
) -> dict[str, dict[str, float]]:
    """Median seconds per training iteration (``batch`` images) and per inference image, per backbone,
    plus parameter counts. Prints a table with the RegionViT / Swin-T ratios."""
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    models = build_pair(config_file, opts, device)
    num_classes = models["regionvit"].roi_heads.num_classes
    data = synthetic_batch(batch, height, width, num_classes, device)
    optims = {k: torch.optim.AdamW(m.parameters(), lr=1e-4) for k, m in models.items()}
    train_t: dict[str, list[float]] = {k: [] for k in models}
    infer_t: dict[str, list[float]] = {k: [] for k in models}

    def train_step(name: str) -> None:
        model, opt = models[name], optims[name]
        model.train()
        losses = model(data)
        opt.zero_grad(set_to_none=True)
        sum(losses.values()).backward()
        opt.step()

    def infer(name: str) -> None:
        model = models[name].eval()
        with torch.no_grad():
            model([{k: d[k] for k in ("image", "height", "width")} for d in data[:1]])

    with EventStorage(0):
        for i in range(warmup + iters):
            for name in models:  # alternate: load drift hits both
                t_train = _timed(lambda n=name: train_step(n), device)
                t_infer = _timed(lambda n=name: infer(n), device)
                if i >= warmup:
                    train_t[name].append(t_train)
                    infer_t[name].append(t_infer)
    res = {
        k: dict(
            params_m=sum(p.numel() for p in m.parameters()) / 1e6,
            backbone_params_m=sum(p.numel() for p in m.backbone.bottom_up.parameters()) / 1e6,
            train_s=statistics.median(train_t[k]),
            infer_s=statistics.median(infer_t[k]),
        )
        for k, m in models.items()
    }
    what = f"{batch} x {height}x{width} (train), 1 image (inference)"
    print(f"Mask R-CNN + FPN, {what}, {device}, median of {iters}")
    print(f"{'backbone':<12}{'params (M)':>12}{'backbone (M)':>14}{'train s/iter':>14}{'infer s/img':>13}")
    for k, r in res.items():
        sizes = f"{r['params_m']:>12.1f}{r['backbone_params_m']:>14.1f}"
        print(f"{k:<12}{sizes}{r['train_s']:>14.3f}{r['infer_s']:>13.3f}")
    a, b = res["regionvit"], res["swin_t"]
    ratios = f"train {a['train_s'] / b['train_s']:.2f}x, inference {a['infer_s'] / b['infer_s']:.2f}x"
    print(f"ratio RegionViT / Swin-T: {ratios}")
    return res
