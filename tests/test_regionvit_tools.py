"""tools/analyze_model.py and tools/benchmark_regionvit.py: their importable pieces (no timing)."""

from __future__ import annotations

import importlib.util

import pytest
import torch
from conftest import REPO
from lgvit_tools import benchmarking

import lgvit


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "tools" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_analyze_model_reports_params_and_flops_beside_table3(capsys):
    tool = _load("analyze_model")
    row = tool.analyze("regionvit_ti")
    assert row["params"] == 13_842_676
    assert row["paper_params_m"] == 13.8 and row["paper_gflops"] == 2.4
    assert row["gflops"] == pytest.approx(2.4, rel=0.05)
    assert tool.analyze("regionvit_ti", size=(64, 96))["paper_gflops"] is None  # paper figures are at 224
    assert tool.main(["regionvit_ti", "--size", "64", "64"]) == 0
    out = capsys.readouterr().out
    assert "regionvit_ti" in out and "13,842,676" in out and "GFLOPs" in out


def test_benchmark_global_baseline_has_the_same_widths():
    """The global-attention baseline is RegionViT-S's backbone minus what only R2L attention has: the
    regional tokenizer, the rel-pos tables and the RSA LayerNorms (and the classifier)."""
    bench = _load("benchmark_regionvit")
    cfg = lgvit.REGIONVIT_CFGS["regionvit_s"]
    base = bench.GlobalPyramidViT(**bench._asdict(cfg))
    ours = lgvit.create_model("regionvit_s", num_classes=0)
    r2l_only = sum(
        p.numel()
        for n, p in ours.named_parameters()
        if n.startswith(("region_embed", "norm.")) or n.endswith(("rel_pos", "norm0.weight", "norm0.bias"))
    )
    assert sum(p.numel() for p in base.parameters()) == sum(p.numel() for p in ours.parameters()) - r2l_only
    x = torch.randn(1, 3, 64, 96)
    with torch.no_grad():
        a, b = base.forward_pyramid(x), ours.forward_pyramid(x)
    assert [t.shape for t in a] == [t.shape for t in b]


def test_benchmark_materialized_and_fused_global_attention_agree():
    bench = _load("benchmark_regionvit")
    torch.manual_seed(0)
    attn = bench.GlobalAttention(64, 2, materialize=True)
    x = torch.randn(2, 50, 64)
    ref = attn(x)
    attn.materialize = False
    torch.testing.assert_close(attn(x), ref, rtol=1e-5, atol=1e-5)


def test_benchmark_lower_bound_counts_the_attention_matrices():
    bench = _load("benchmark_regionvit")
    cfg = lgvit.REGIONVIT_CFGS["regionvit_s"]
    assert bench.local_token_counts(896, 1344) == [224 * 336, 112 * 168, 56 * 84, 28 * 42]
    n = 224 * 336
    bound = bench.global_attention_lower_bound_bytes(cfg, 896, 1344)
    assert bound > 2 * 3 * n * n * 4  # stage 1 alone: 2 blocks x 3 heads x N^2 float32
    assert bound / 2**30 > 100  # far beyond any CI machine: the tool reports it instead of running it


def test_benchmark_memory_workers_report_their_own_peak():
    """A worker started by a large process reports its own peak RSS (``ru_maxrss`` would start at the
    parent's: the memory comparison printed equal peaks for both models once). The child's own footprint
    (its imports, ~0.7-0.9 GiB) is why the comparison is with the parent's peak, not with the held size."""
    import subprocess
    import sys

    held = torch.ones(256 * 2**20)  # 1 GiB resident in this process
    code = (
        "import importlib.util, sys; spec = importlib.util.spec_from_file_location('b', sys.argv[1]); "
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); "
        "from lgvit_tools.benchmarking import peak_rss_bytes; print(peak_rss_bytes())"
    )  # the tool's imports, then the reading its workers make
    out = subprocess.run(
        [sys.executable, "-c", code, str(REPO / "tools" / "benchmark_regionvit.py")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    child_peak = int(out.stdout.strip().splitlines()[-1])
    parent_peak = benchmarking.peak_rss_bytes()
    assert parent_peak > held.numel() * 4
    # the child imports what the parent imported (torch, timm, lgvit) but not the held GiB: an inherited
    # mark would be >= the parent's peak; its own is at least half the held tensor below it
    assert child_peak < parent_peak - held.numel() * 2, (child_peak, parent_peak)


def test_profile_step_groups_ops_and_counts_gemm_work(capsys):
    """tools/profile_step.py: the GEMM FLOPs it reports for a training step equal the matrix-multiply work
    counted independently from the model's linear layers (forward 1x, backward 2x)."""
    tool = _load("profile_step")
    assert tool.op_group("aten::addmm") == "gemm" and tool.op_group("aten::copy_") == "copies"
    assert tool.op_group("aten::_scaled_dot_product_flash_attention_for_cpu") == "fused attention"
    assert tool.op_group("aten::native_layer_norm_backward") == "layernorm"
    assert tool.gemm_flops("aten::addmm", [[5], [2, 3], [3, 4]]) == 2 * 2 * 3 * 4
    assert tool.gemm_flops("aten::bmm", [[7, 2, 3], [7, 3, 4]]) == 2 * 7 * 2 * 3 * 4

    torch.set_num_threads(1)
    res = tool.profile_model("regionvit_ti", "infer", batch=1, size=64, steps=1)
    assert sum(res["shares"].values()) == pytest.approx(1.0)
    # inference GEMMs = every nn.Linear on its tokens + the attention's matrix multiplies (written out on
    # CPU for these short sequences): the linear part from the layer shapes, with hooks, the attention part
    # from torch's own FLOP counter (its bmm counts), each independent of the profiler
    from torch.utils.flop_counter import FlopCounterMode

    model = lgvit.create_model("regionvit_ti").eval()
    linear_flops = []
    for m in model.modules():
        if isinstance(m, torch.nn.Linear):
            m.register_forward_hook(
                lambda mod, inp, out: linear_flops.append(2 * inp[0].numel() * mod.out_features)
            )
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.randn(1, 3, 64, 64))
    counts = {str(op).split(".")[-1]: n for op, n in counter.get_flop_counts()["Global"].items()}
    attention_flops = counts.get("bmm", 0) + counts.get("baddbmm", 0)
    assert attention_flops > 0
    assert res["gemm_gflop"] == pytest.approx((sum(linear_flops) + attention_flops) / 1e9, rel=1e-6)
    # the matrix-product work adds the convolutions (stem, regional embedding, downsampling), counted here
    # from each layer's output and kernel
    conv_flops = []
    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d):
            k = m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
            m.register_forward_hook(lambda mod, inp, out, k=k: conv_flops.append(2 * out.numel() * k))
    linear_flops.clear()
    with torch.no_grad():
        model(torch.randn(1, 3, 64, 64))
    assert conv_flops
    want = (sum(linear_flops) + attention_flops + sum(conv_flops)) / 1e9
    assert res["matrix_gflop"] == pytest.approx(want, rel=1e-6)
    args = ["--mode", "infer", "--batch", "1", "--size", "64", "--steps", "1", "--threads", "1"]
    assert tool.main(args) == 0
    out = capsys.readouterr().out
    assert "GEMM GFLOP/s" in out and "matrix GFLOP" in out and "time outside matrix products" in out
    assert "regionvit_s / swin_tiny_patch4_window7_224" in out


def test_analyze_model_markdown_row(capsys):
    """``--markdown`` prints the READMEs' model table: params in M and GFLOPs beside the paper's values."""
    tool = _load("analyze_model")
    assert tool.main(["regionvit_ti", "rsir_t", "--markdown"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "| model | params (M) | paper | GFLOPs | paper | source |"
    assert lines[3] == "| `regionvit_ti` | 13.84 | 13.8 | 2.43 | 2.4 | RegionViT Table 3 |"
    assert lines[4] == "| `rsir_t` | 20.65 | 22.0 | 3.64 | 5.0 | RSIR Tables 2, 3 |"
