"""Issue 12 item 10: API misuse gets a clear ValueError (dtype of the input batch, num_classes=-1)."""

from __future__ import annotations

import pytest
import torch

import lgvit


@pytest.fixture(scope="module")
def model():
    return lgvit.create_model("regionvit_ti", num_classes=3).eval()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_item10_half_input_into_float32_model_is_refused_with_the_fixes(model, dtype):
    x = torch.rand(1, 3, 64, 64)
    with pytest.raises(ValueError, match=rf"{dtype} but the model's weights are torch.float32.*autocast"):
        model(x.to(dtype))
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):  # autocast casts per op: allowed
        assert model(x.to(torch.bfloat16)).shape == (1, 3)
    with torch.no_grad():
        assert model(x).shape == (1, 3)


def test_item10_uint8_input_and_negative_num_classes(model):
    with pytest.raises(ValueError, match=r"floating-point.*x.float\(\)"):
        model(torch.zeros(1, 3, 64, 64, dtype=torch.uint8))
    with pytest.raises(ValueError, match="num_classes"):
        lgvit.create_model("regionvit_ti", num_classes=-1)


def test_item10_scripted_model_still_runs(model):
    scripted = torch.jit.script(model)
    with torch.no_grad():
        torch.testing.assert_close(scripted(torch.ones(1, 3, 64, 64)), model(torch.ones(1, 3, 64, 64)))


@pytest.mark.parametrize("kind", ["missing", "empty", "garbage", "truncated", "bare_tensor"])
def test_item8_pretrained_file_gets_one_clear_message(tmp_path, kind):
    """``create_model(..., pretrained=True, pretrained_cfg_overlay=dict(file=...))`` with a bad file: the
    message names the file and says what is wrong (no bare EOFError / unpickling advice)."""
    from lgvit.checkpoint import CheckpointError

    path = tmp_path / f"{kind}.pth"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "garbage":
        path.write_text("not a checkpoint at all")
    elif kind == "truncated":
        torch.save(lgvit.create_model("regionvit_ti").state_dict(), path)
        path.write_bytes(path.read_bytes()[:5000])
    elif kind == "bare_tensor":
        torch.save(torch.zeros(3), path)
    expected = {
        "missing": (FileNotFoundError, "does not exist"),
        "empty": (CheckpointError, "is empty"),
        "garbage": (CheckpointError, "is not a PyTorch checkpoint"),
        "truncated": (CheckpointError, "truncated or damaged"),
        "bare_tensor": (CheckpointError, "not a state dict"),
    }[kind]
    with pytest.raises(expected[0], match=expected[1]) as e:
        lgvit.create_model("regionvit_ti", pretrained=True, pretrained_cfg_overlay=dict(file=str(path)))
    assert str(path) in str(e.value)
