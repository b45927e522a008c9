"""Issue 12 item 7 (detection): a damaged latest checkpoint next to intact older ones."""

from __future__ import annotations

import logging

import pytest
import torch
from lgvit_engine.checkpoint import checkpoint_damage, resume_checkpoint

from lgvit.checkpoint import CheckpointError


def write_run(out, iters=(4, 9)):
    out.mkdir(parents=True, exist_ok=True)
    for it in iters:
        torch.save(
            {"model": {"w": torch.full((64, 64), float(it))}, "iteration": it}, out / f"model_{it:07d}.pth"
        )
    (out / "last_checkpoint").write_text(f"model_{iters[-1]:07d}.pth")


def test_item7_damaged_latest_detection_checkpoint_falls_back(tmp_path, caplog):
    out = tmp_path / "run"
    write_run(out)
    latest = out / "model_0000009.pth"
    assert resume_checkpoint(out) == str(latest)
    assert resume_checkpoint(tmp_path / "empty") is None
    data = latest.read_bytes()
    latest.write_bytes(data[: len(data) // 2])  # truncated
    assert "truncated or damaged" in checkpoint_damage(latest)
    with caplog.at_level(logging.WARNING):
        assert resume_checkpoint(out) == str(out / "model_0000004.pth")
    assert str(latest) in caplog.text
    # flipped bytes inside the tensor data: CRC
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF
    latest.write_bytes(bytes(flipped))
    assert checkpoint_damage(latest) is not None
    (out / "model_0000004.pth").write_bytes(b"")
    with pytest.raises(CheckpointError, match="no intact checkpoint") as e:
        resume_checkpoint(out)
    assert str(latest) in str(e.value) and "is empty" in str(e.value)
