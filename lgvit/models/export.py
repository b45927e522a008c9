"""Exporting lgvit models: ``torch.export`` programs (``.pt2``), ONNX (checked in ONNX Runtime) and
TorchScript, each verified against the eager model.

What each artifact serves (torch 2.14.1, measured on CPU):

* **TorchScript** (``torch.jit.script``): any batch and any input size -- the scripted model keeps the
  Python size logic (padding, masks) as TorchScript code.
* **torch.export** (``.pt2``) and **ONNX**: a dynamic batch at the export size. The forward paths are
  free of size-keyed caches, string switches and data-dependent branches (masks are computed from the
  sizes; a captured graph always builds them, see :func:`lgvit.layers.capturing_graph`), so one graph
  can in principle serve every size. With dynamic height/width, though, torch.export's symbolic-shape
  reasoning does not finish in minutes: it spends its time in sympy proving the reshapes between token
  layouts valid (RegionViT: the region layout reshape of each stage, RSIR: the token-window
  partition/unpartition; SALG: the coverage gathers), even for sizes restricted to multiples of 32.
  ``dynamic_hw=True`` is accepted for experiments and documented as such.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn as nn

__all__ = ["FORMATS", "ExportResult", "export_model", "verify_artifact"]

FORMATS = ("pt2", "onnx", "torchscript")


@dataclass
class ExportResult:
    """An exported artifact: where it was written, how to run it, what sizes it serves, how long it took."""

    path: str
    fmt: str
    runner: Callable[[torch.Tensor], torch.Tensor]
    any_size: bool
    seconds: float
    checks: list[tuple[tuple[int, ...], float]] = field(default_factory=list)


def _dynamic_shapes(dynamic_hw: bool) -> dict[str, dict[int, Any]]:
    from torch.export import Dim

    dims: dict[int, Any] = {0: Dim("batch", min=1, max=1024)}
    if dynamic_hw:
        dims[2] = Dim("height", min=32, max=4096)
        dims[3] = Dim("width", min=32, max=4096)
    return {"x": dims}


def export_model(
    model: nn.Module,
    path: str,
    fmt: str,
    example: torch.Tensor,
    dynamic_hw: bool = False,
) -> ExportResult:
    """Exports ``model`` (put in eval mode) traced at ``example`` ``(B, C, H, W)`` to ``path`` as ``fmt``
    (one of :data:`FORMATS`) and returns an :class:`ExportResult` whose ``runner`` runs the artifact."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    model = model.eval()
    start = time.perf_counter()
    if fmt == "torchscript":
        scripted = torch.jit.script(model)
        scripted.save(path)
        loaded = torch.jit.load(path)
        return ExportResult(path, fmt, loaded, True, time.perf_counter() - start)
    if fmt == "pt2":
        program = torch.export.export(model, (example,), dynamic_shapes=_dynamic_shapes(dynamic_hw))
        torch.export.save(program, path)
        module = torch.export.load(path).module()
        return ExportResult(path, fmt, module, dynamic_hw, time.perf_counter() - start)
    try:
        import onnxruntime as ort
    except ImportError as e:  # the optional extra
        raise RuntimeError("ONNX export needs the export extra: pip install 'lgvit[export]'") from e
    program = torch.onnx.export(
        model,
        (example,),
        dynamo=True,
        dynamic_shapes=_dynamic_shapes(dynamic_hw),
        input_names=["x"],
        output_names=["y"],
    )
    program.save(path)
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])

    def run_onnx(x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(session.run(None, {"x": x.detach().cpu().numpy()})[0])

    return ExportResult(path, fmt, run_onnx, dynamic_hw, time.perf_counter() - start)


def verify_artifact(
    model: nn.Module,
    result: ExportResult,
    sizes: Sequence[tuple[int, int]],
    batch: int = 2,
    in_chans: int = 3,
    seed: int = 0,
) -> float:
    """Runs the artifact and the eager model on random batches at each ``(H, W)`` of ``sizes`` and
    records the largest absolute difference per size in ``result.checks``; returns the overall largest."""
    gen = torch.Generator().manual_seed(seed)
    worst = 0.0
    for h, w in sizes:
        x = torch.randn(batch, in_chans, h, w, generator=gen)
        with torch.no_grad():
            want = model(x)
            got = result.runner(x)
        diff = (got.float() - want.float()).abs().max().item() if want.numel() else 0.0
        result.checks.append(((batch, in_chans, h, w), diff))
        worst = max(worst, diff)
    return worst
