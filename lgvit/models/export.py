"""Exporting lgvit models: ``torch.export`` programs (``.pt2``), ONNX (checked in ONNX Runtime) and
TorchScript, each verified against the eager model.

Status (torch 2.14.1, CPU): TorchScript serves any batch and size for every model. torch.export with
dynamic batch, height and width works for every registered model (``forward``; ``forward_pyramid`` tested for
RegionViT-S+ PEG) and for the video model (``(B, C, T, H, W)`` clips: dynamic batch, height and width at the
example's clip length); the programs equal eager within 1e-4 at 224, 256 and 230x298, at a batch of one and
down to 32x45 (tests/test_export.py: one model per family and the video model on every family in the fast
suite; every registered model at full depth, ``.pt2`` and ONNX, in ``test_every_registered_model_exports``,
marked slow and opt-in with ``LGVIT_EXPORT_ALL=1``: tens of minutes on two cores). ONNX Runtime equals
eager within 1e-4 for RegionViT and SALG; RSIR's IR-Win order is a sort of an importance map, so two
tokens whose importance differs by less than the last bit of ONNX Runtime's arithmetic may swap windows
(seen: up to 4.4e-3 at the logits of RSIR-B at 230x298, 7e-7 at 224; the tests allow 1e-2 for RSIR:
a loose check), and at initialisation
(identity LayerNorms) its first blocks' importance is rounding noise: check trained weights. Export takes
seconds to a minute per model (tools/benchmark_export.py).

* **torch.export** (``.pt2``) with dynamic batch, height and width (:func:`capture_program`). The forward
  paths build their padding masks from the sizes (a captured graph always builds them, all zero where
  nothing is padded: :func:`lgvit.layers.capturing_graph`), pad to sizes written as multiples
  (``n * ceil(H / n)``, not ``H + (-H) % n``: symbolic shapes then see both halves of a patch merging,
  or all windows, have the same length without a guard) and crop by a gather (:func:`lgvit.layers.crop`;
  a slice whose end may equal the size specialises the graph on "nothing padded"). A reshape or
  ``contiguous()`` of a strided tensor asks whether a dimension has size 1 (a 1x1 regional grid, a batch of
  one), and a write into a slice whether it overlaps itself: captured graphs copy first
  (:func:`lgvit.layers.reshape`, :func:`lgvit.layers.contiguous`) and RegionViT concatenates its regional
  rows instead of writing them in place; eager keeps the in-place forms. Two torch settings
  remain needed: size-oblivious reasoning (a map of one region, or a batch of one, is not a special case)
  and runtime asserts instead of guards for facts sympy cannot prove (``ceil(H/4) <= 7 * ceil(H/28)``).
* **ONNX** through ``torch.onnx`` from that program, with the same dynamic axes; attention is written out
  and RSIR's importance order uses TopK (see :func:`lgvit.layers.onnx_exporting`).
* **TorchScript** (``torch.jit.script``): the Python size logic kept as TorchScript code.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn as nn

__all__ = ["FORMATS", "ExportResult", "capture_program", "export_model", "verify_artifact"]

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


def _dynamic_shapes(dynamic_hw: bool, ndim: int = 4) -> dict[str, dict[int, Any]]:
    """Dynamic batch (dim 0) and, with ``dynamic_hw``, the last two dims: ``(B, C, H, W)`` images and
    ``(B, C, T, H, W)`` clips (the clip length stays the example's)."""
    from torch.export import Dim

    dims: dict[int, Any] = {0: Dim("batch", min=1, max=1024)}
    if dynamic_hw:
        dims[ndim - 2] = Dim("height", min=32, max=4096)
        dims[ndim - 1] = Dim("width", min=32, max=4096)
    return {"x": dims}


def capture_program(
    model: nn.Module, example: torch.Tensor, dynamic_hw: bool = True, for_onnx: bool = False
) -> torch.export.ExportedProgram:
    """``torch.export`` of ``model`` (eval mode) at ``example`` ``(B, C, H, W)`` (or a video model's
    ``(B, C, T, H, W)``, at a fixed T) with a dynamic batch and, with ``dynamic_hw``, dynamic height and
    width (see the module docstring for the two settings). ``for_onnx``: capture the ONNX forms of the few
    ops ONNX lacks."""
    if example.ndim not in (4, 5):
        raise ValueError(f"example must be (B, C, H, W) or (B, C, T, H, W), got shape {tuple(example.shape)}")
    import torch.fx.experimental._config as fx_config

    from ..layers import onnx_export_mode

    with fx_config.patch(backed_size_oblivious=True), onnx_export_mode(for_onnx):
        return torch.export.export(
            model.eval(),
            (example,),
            dynamic_shapes=_dynamic_shapes(dynamic_hw, example.ndim),
            prefer_deferred_runtime_asserts_over_guards=True,
        )


def export_model(
    model: nn.Module,
    path: str,
    fmt: str,
    example: torch.Tensor,
    dynamic_hw: bool = True,
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
        program = capture_program(model, example, dynamic_hw)
        torch.export.save(program, path)
        module = torch.export.load(path).module()
        return ExportResult(path, fmt, module, dynamic_hw, time.perf_counter() - start)
    try:
        import onnxruntime as ort
    except ImportError as e:  # the optional extra
        raise RuntimeError("ONNX export needs the export extra: pip install 'lgvit[export]'") from e
    program = capture_program(model, example, dynamic_hw, for_onnx=True)
    onnx_program = torch.onnx.export(program, (), dynamo=True, input_names=["x"], output_names=["y"])
    onnx_program.save(path)
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
    num_frames: int | None = None,
) -> float:
    """Runs the artifact and the eager model on random batches at each ``(H, W)`` of ``sizes`` (clips of
    ``num_frames`` frames for a video model) and records the largest absolute difference per size in
    ``result.checks``; returns the overall largest."""
    gen = torch.Generator().manual_seed(seed)
    worst = 0.0
    for h, w in sizes:
        frames = () if num_frames is None else (num_frames,)
        x = torch.randn(batch, in_chans, *frames, h, w, generator=gen)
        with torch.no_grad():
            want = model(x)
            got = result.runner(x)
        diff = (got.float() - want.float()).abs().max().item() if want.numel() else 0.0
        result.checks.append((tuple(x.shape), diff))
        worst = max(worst, diff)
    return worst
