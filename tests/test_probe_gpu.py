"""tools/probe_gpu.py: its flex_attention formulation of SALG's intra-region attention is the package's
attention (the equality the GPU timing relies on; flex_attention runs unfused, forward only, on a CPU)."""

import importlib.util
import subprocess
import warnings

import pytest
import torch
from conftest import REPO


def _probe():
    spec = importlib.util.spec_from_file_location("probe_gpu", REPO / "tools" / "probe_gpu.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_flex_member_attention_equals_the_package_attention_on_real_layouts():
    from torch.nn.attention.flex_attention import flex_attention

    from lgvit.layers.member_attention import _member_attention

    probe = _probe()
    calls = probe.capture_member_calls(batch=2, size=96, device="cpu")
    assert [c["pad"] for c in calls] == [1, 2, 1]  # the first block of each SALG stage
    for c in calls:
        args = (c["region"], c["table"], c["hw"], c["window"], c["pad"], c["agr"], c["num_heads"])
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "flex_attention called without torch.compile"
            want = _member_attention(c["qkv"], *args, 0.0)
            got = probe._flex_member_attention(flex_attention, c["qkv"], *args)
        assert got.shape == want.shape
        torch.testing.assert_close(got, want, rtol=0, atol=1e-5)


def test_bias_table_width_must_be_codes_times_codes_plus_one():
    probe = _probe()
    assert probe._codes_per_row(82 * 83) == 82
    with pytest.raises(ValueError, match="not Kc"):
        probe._codes_per_row(82 * 83 + 1)


def test_gpu_check_explains_itself_and_refuses_unknown_parts(tmp_path):
    script = str(REPO / "tools" / "gpu_check.sh")
    env = {"OUT": str(tmp_path / "out"), "PATH": "/usr/bin:/bin"}
    shown = subprocess.run(["bash", script, "--help"], capture_output=True, text=True, env=env)
    assert shown.returncode == 0
    assert all(part in shown.stdout for part in ("probe", "eager", "compiled", "DEVICE", "SITE"))
    refused = subprocess.run(["bash", script, "probe", "eagre"], capture_output=True, text=True, env=env)
    assert refused.returncode == 2 and "unknown part 'eagre'" in refused.stderr
    assert not (tmp_path / "out").exists()  # refused before anything ran
