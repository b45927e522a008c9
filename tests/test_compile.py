"""``torch.compile`` equals eager at every input size, including sizes whose regions need padding masks
(Inductor's CPU code generator failed on them before the masks moved out of the compiled graph)."""

from __future__ import annotations

import pytest
import torch

import lgvit

SIZES = [(224, 224), (230, 298)]  # no padding; padded (odd)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["regionvit_s_w14_peg"])
def test_compiled_equals_eager_at_every_size(name):
    """One variant: with PEG a stage runs its blocks in two calls of ``forward_blocks`` around the PEG
    (unpartition, depthwise conv, partition again), which contains every operation of a stage without PEG
    (one call of the same ``forward_blocks``); the variants without PEG differ only in widths and window,
    numbers that change no code path (a second variant, ``regionvit_ti``, cost 1-2.5 minutes of CI)."""
    torch.manual_seed(0)
    # the registered widths, windows and stems; two blocks per stage (compile time grows with the graph)
    model = lgvit.create_model(name, depths=(2, 2, 2, 2)).eval()
    compiled = torch.compile(model, dynamic=False)  # a graph per size: symbolic shapes compile far slower
    for size in SIZES:
        x = torch.randn(1, 3, *size)
        with torch.no_grad():
            torch.testing.assert_close(compiled(x), model(x), atol=1e-4, rtol=1e-4, msg=f"{name} at {size}")
