"""FLOP counting with fvcore, including fused attention.

fvcore has no handle for ``aten::scaled_dot_product_attention`` and would silently skip it; we count
it like the two matmuls it replaces (one multiply-add = one FLOP, fvcore's convention).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn as nn


def _shape(v: Any) -> list[int]:
    return list(v.type().sizes())


def sdpa_flop_jit(inputs: list[Any], outputs: list[Any]) -> int:
    """q ``(..., L, E)``, k ``(..., S, E)``, v ``(..., S, Ev)``: ``L*S*E + L*S*Ev`` per batch entry."""
    q, k, v = (_shape(x) for x in inputs[:3])
    batch = math.prod(q[:-2])
    L, E = q[-2], q[-1]
    S, Ev = k[-2], v[-1]
    return batch * L * S * (E + Ev)


def count_flops(model: nn.Module, *inputs: torch.Tensor) -> int:
    """Total FLOPs (multiply-adds) of ``model(*inputs)`` as counted by fvcore, SDPA included."""
    from fvcore.nn import FlopCountAnalysis  # optional dependency, only needed here

    analysis = FlopCountAnalysis(model, inputs)
    analysis.set_op_handle("aten::scaled_dot_product_attention", sdpa_flop_jit)
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    with torch.no_grad():
        return int(analysis.total())


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
