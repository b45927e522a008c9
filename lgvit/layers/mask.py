"""The one masking constant of every lgvit attention, and the shape-only switch between the eager fast
paths and the graph-capture paths (``torch.export``, ONNX, tracing)."""

import contextlib
from collections.abc import Iterator

import torch
from timm.layers import is_exporting


def mask_value(dtype: torch.dtype) -> float:
    """The additive bias that masks a key out of attention: a large *finite* negative number, so a query
    row whose keys are all masked (padding) stays finite and attends uniformly (exp underflows to exactly
    0, as with the official ``masked_fill(finfo.min)``). -3e4 stays finite in float16."""
    return -3.0e4 if dtype == torch.float16 else -1.0e9


def mask_bias(allowed: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Bool (or 0/1) ``allowed`` (True = may be attended) -> additive bias of the same shape: 0 where
    allowed, :func:`mask_value` elsewhere. Float arithmetic only (Inductor's CPU code generator fails on
    fused bool-mask arithmetic)."""
    return (1.0 - allowed.to(dtype)) * mask_value(dtype)


@torch.jit.unused  # scripted models never ask (TorchScript has no autocast state to read here)
def autocast_enabled(device: torch.device) -> bool:
    """Whether autocast is on for ``device``'s type. A device type autocast does not know (``meta``, where
    timm's tests build models) has it off, instead of torch's "unknown device type for autocast" error."""
    if device.type == "meta":
        return False
    return torch.is_autocast_enabled(device.type)


def capturing_graph() -> bool:
    """True while ``torch.export`` (and the ONNX exporter built on it) or ``torch.jit.trace`` records the
    model. Then every size-dependent choice must be one the graph can make for any size: masks are
    always built (all-zero where nothing is padded) instead of skipped by a Python branch on the sizes.
    Both paths compute the same outputs. False when scripting (TorchScript keeps Python branches)."""
    if torch.jit.is_scripting():
        return False
    return is_exporting() or torch.jit.is_tracing()


@torch.jit.unused  # scripted models run eagerly: never compiling
def _compiling() -> bool:
    return torch.compiler.is_compiling()


def fixed_shapes() -> bool:
    """True while a graph is captured (:func:`capturing_graph`) or compiled by ``torch.compile``: then no
    size may depend on tensor values (an eager-only ``.item()``), and a static bound takes its place."""
    if torch.jit.is_scripting():
        return False
    return capturing_graph() or _compiling()


_ONNX_MODE = [False]  # set by onnx_export_mode() (a list: TorchScript never reads it, see below)


@contextlib.contextmanager
def onnx_export_mode(enabled: bool = True) -> Iterator[None]:
    """Within it, :func:`onnx_exporting` is True: for capturing a ``torch.export`` program meant for ONNX
    (:func:`lgvit.models.export.capture_program`)."""
    old = _ONNX_MODE[0]
    _ONNX_MODE[0] = enabled
    try:
        yield
    finally:
        _ONNX_MODE[0] = old


@torch.jit.unused
def _onnx_mode() -> bool:
    return _ONNX_MODE[0] or torch.onnx.is_in_onnx_export()


def onnx_exporting() -> bool:
    """True while ``torch.onnx.export`` (or :func:`onnx_export_mode`) records the model: the few ops ONNX
    lacks take an equivalent form (see :func:`lgvit.layers.attention` and
    :func:`lgvit.layers.importance_permutation`)."""
    if torch.jit.is_scripting():
        return False
    return _onnx_mode()


def crop(x: torch.Tensor, dim: int, length: int) -> torch.Tensor:
    """The first ``length`` entries of ``x`` along ``dim`` (cropping padding away). A captured graph
    gathers them: a slice whose end may equal the size makes torch.export specialise on "nothing was
    padded" at the example size (the slice is then the tensor itself), a gather serves every size."""
    if capturing_graph():
        return x.index_select(dim, torch.arange(length, device=x.device))
    return x.narrow(dim, 0, length)


def reshape(x: torch.Tensor, shape: list[int]) -> torch.Tensor:
    """``x.reshape(shape)``; a captured graph copies ``x`` to contiguous memory first. torch's reshape of
    a strided tensor asks whether a view is possible, which for symbolic sizes is a guard on whether a
    dimension has size 1 (a 1x1 regional grid, a batch of one): torch.export then specialises the graph
    on the example's sizes. A contiguous copy reshapes without a question, at every size, to the same
    values."""
    if capturing_graph():
        x = x.clone(memory_format=torch.contiguous_format)
    return x.reshape(shape)


def contiguous(x: torch.Tensor) -> torch.Tensor:
    """``x.contiguous()``; a captured graph always copies (asking whether ``x`` already is contiguous is a
    guard on size-1 dimensions, see :func:`reshape`)."""
    if capturing_graph():
        return x.clone(memory_format=torch.contiguous_format)
    return x.contiguous()
