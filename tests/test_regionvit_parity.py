"""Parity with the official IBM RegionViT implementation (reference outputs in shared/testdata)."""

from __future__ import annotations

import pytest
import torch
from conftest import OFFICIAL_DIR

import lgvit

FILES = sorted(OFFICIAL_DIR.glob("*.pt")) if OFFICIAL_DIR.is_dir() else []
CASES = [(f, i) for f in FILES for i in range(len(torch.load(f, weights_only=True)["cases"]))]


@pytest.mark.skipif(not FILES, reason=f"official RegionViT reference outputs not found in {OFFICIAL_DIR}")
@pytest.mark.parametrize("path,case", CASES, ids=[f"{f.stem}-{i}" for f, i in CASES])
def test_official_parity(path, case):
    ref = torch.load(path, weights_only=True)
    model = lgvit.regionvit_from_official(ref["config"], ref["state_dict"]).eval()
    c = ref["cases"][case]
    with torch.no_grad():
        logits = model(c["input"])
        feats = model.forward_pyramid(c["input"])
    torch.testing.assert_close(logits, c["logits"], atol=1e-4, rtol=0)
    assert len(feats) == len(c["features"]) == 4
    for ours, theirs in zip(feats, c["features"]):
        assert ours.shape == theirs.shape
        torch.testing.assert_close(ours, theirs, atol=1e-4, rtol=0)
