"""``torch.compile`` equals eager at every input size, including sizes whose regions need padding masks
(Inductor's CPU code generator failed on them before the masks moved out of the compiled graph)."""

from __future__ import annotations

import pytest
import torch

import lgvit

SIZES = [(224, 224), (230, 298)]  # no padding; padded (odd)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["regionvit_ti", "regionvit_s_w14_peg"])
def test_compiled_equals_eager_at_every_size(name):
    torch.manual_seed(0)
    # the registered widths, windows and stems; two blocks per stage (compile time grows with the graph)
    model = lgvit.create_model(name, depths=(2, 2, 2, 2)).eval()
    compiled = torch.compile(model, dynamic=False)  # a graph per size: symbolic shapes compile far slower
    for size in SIZES:
        x = torch.randn(1, 3, *size)
        with torch.no_grad():
            torch.testing.assert_close(compiled(x), model(x), atol=1e-4, rtol=1e-4, msg=f"{name} at {size}")
