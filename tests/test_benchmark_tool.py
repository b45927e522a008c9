"""tools/benchmark.py (the one benchmark table) and tools/lgvit_tools/benchmarking.py: the pieces, never a
timing (numbers from a shared test machine mean nothing; only the structure is checked)."""

import importlib.util
import json
import os
import shutil

import pytest
import torch
import torch.nn.functional as F
from conftest import REPO
from lgvit_tools import benchmarking


def _tool():
    spec = importlib.util.spec_from_file_location("benchmark_tool", REPO / "tools" / "benchmark.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def keep_threads():
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


def test_table_writer_writes_markdown_and_json(tmp_path):
    header = benchmarking.environment("cpu", 1)
    assert {"torch", "threads", "device", "device_name", "load_average"} <= set(header)
    rows = [
        benchmarking.row("eager", "inference", "224x224, batch 8", "regionvit_s", 40.0, "swin", 50.0,
                         "img/s", 0.8, "speed", bound=0.87),
        benchmarking.row("eager", "train step", "224x224, batch 4", "rsir_t", 1.0, "swin", 1.2, "s/step",
                         1.2, "speed", bound=1.24, spread=(1.1, 1.25)),
        benchmarking.row("detection", "step memory", "672x1120, batch 1", "regionvit_s", 1.0, "swin_t_d2",
                         2.0, "GiB", 0.5, "memory", "peak 2 vs 3 GiB"),
        benchmarking.row("video", "clip training", "8x224x224, batch 1", "divided", None, "joint", None,
                         note="failed: killed"),
    ]  # fmt: skip
    md, js = benchmarking.write_table(tmp_path / "out", header, rows)
    text = md.read_text()
    assert md.name == "benchmark.md" and js.name == "benchmark.json"
    assert f"{header['threads']} threads" in text and header["device_name"] in text and "load average" in text
    assert (
        "| eager | inference | 224x224, batch 8 | regionvit_s: 40 img/s | swin: 50 img/s | 0.8x speed "
        "| 0.87x | 92% |" in text
    )
    assert "| 1.2x speed (1.1-1.25) | 1.24x | 97% |" in text  # the lowest and highest round beside it
    assert "0.5x memory | - | - | peak 2 vs 3 GiB |" in text
    assert "| divided: - | joint: - | - | - | - | failed: killed |" in text
    data = json.loads(js.read_text())
    assert set(data) == {"header", "rows"} and data["header"]["torch"] == torch.__version__
    assert set(data["rows"][0]) == {"section", "what", "size", "ours", "ours_value", "baseline",
                                    "baseline_value", "unit", "ratio", "ratio_kind", "bound",
                                    "spread", "note"}  # fmt: skip
    assert data["rows"][1]["spread"] == [1.1, 1.25]
    assert data["rows"][2]["ratio"] == 0.5 and data["rows"][3]["ratio"] is None


def test_interleaved_rounds_alternate_the_order_and_ratios_are_per_round():
    calls = []
    fns = {n: (lambda n=n: calls.append(n)) for n in ("a", "b", "c")}
    rounds = benchmarking.interleaved_rounds(fns, rounds=3, iters={"a": 2, "b": 1, "c": 1})
    assert calls == ["a", "a", "b", "c", "c", "b", "a", "a", "a", "a", "b", "c"]
    assert len(rounds) == 3 and all(set(r) == {"a", "b", "c"} for r in rounds)
    fake = [{"x": 2.0, "y": 1.0}, {"x": 9.0, "y": 3.0}, {"x": 1.0, "y": 1.0}]
    assert benchmarking.median_ratio(fake, "x", "y") == 2.0  # per-round ratios 2, 3, 1
    assert benchmarking.ratio_range(fake, "x", "y") == (1.0, 3.0)


def test_sections_parser_refuses_unknown_names(capsys):
    tool = _tool()
    assert tool.parse_args(["--sections", "eager", "detection"]).sections == ["eager", "detection"]
    assert tool.parse_args([]).sections == list(tool.SECTIONS)
    with pytest.raises(SystemExit):
        tool.parse_args(["--sections", "eager", "speed"])
    err = capsys.readouterr().err
    assert "unknown section 'speed'" in err and "choose from eager, compiled, official" in err
    with pytest.raises(SystemExit):
        tool.parse_args(["--sections", "official"])  # asked for by name, without the code
    assert "--sections official needs --official PATH" in capsys.readouterr().err


def test_official_path_errors_are_clear(tmp_path, capsys):
    tool = _tool()
    with pytest.raises(SystemExit):
        tool.parse_args(["--official", str(tmp_path / "missing")])
    assert "no such file or directory" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        tool.parse_args(["--official", str(tmp_path)])  # exists, but holds no regionvit.py
    assert "no regionvit.py there" in capsys.readouterr().err
    (tmp_path / "regionvit").mkdir()
    (tmp_path / "regionvit" / "regionvit.py").write_text("")
    with pytest.raises(FileNotFoundError, match="attention_variants.py is missing"):
        tool.load_official(tmp_path)


def test_official_loader_imports_the_package_layout_without_its_init(tmp_path):
    """The loader's mechanics on a stand-in with the official layout (``regionvit/regionvit.py`` importing
    ``.attention.attention_variants``, a package ``__init__`` that must not run): it builds
    ``RegionViT(**_model_cfg["small"])``. The real code is checked by the test below when available."""
    pkg = tmp_path / "RegionViT" / "regionvit"
    (pkg / "attention").mkdir(parents=True)
    (pkg / "__init__.py").write_text("raise RuntimeError('the package __init__ must not run')\n")
    (pkg / "attention" / "__init__.py").write_text("")
    (pkg / "attention" / "attention_variants.py").write_text("WIDTH = 7\n")
    (pkg / "regionvit.py").write_text(
        "import torch.nn as nn\n"
        "from .attention.attention_variants import WIDTH\n"
        "_model_cfg = {'small': dict(out_features=WIDTH)}\n"
        "class RegionViT(nn.Linear):\n"
        "    def __init__(self, out_features):\n"
        "        super().__init__(3, out_features)\n"
    )
    model = _tool().build_official(tmp_path / "RegionViT")
    assert type(model).__module__ == "_official_regionvit.regionvit" and model.out_features == 7
    # another checkout is imported afresh, not served from the first one's module cache
    other = tmp_path / "other"
    shutil.copytree(pkg, other / "regionvit")
    (other / "regionvit" / "attention" / "attention_variants.py").write_text("WIDTH = 5\n")
    assert _tool().build_official(other).out_features == 5


@pytest.mark.skipif(
    not os.environ.get("LGVIT_OFFICIAL_REGIONVIT"),
    reason="set LGVIT_OFFICIAL_REGIONVIT to a local github.com/IBM/RegionViT checkout",
)
def test_official_code_loads_and_runs():
    model = _tool().build_official(os.environ["LGVIT_OFFICIAL_REGIONVIT"]).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 3, 64, 64)).shape == (1, 1000)


@pytest.mark.parametrize("kind", ["regionvit_ti", "swin_t_d2"])
def test_detection_worker_reports_peak_and_step_memory(kind):
    if kind == "swin_t_d2":
        pytest.importorskip("detectron2")
    r = _tool().measure_detection(kind, 64, 96, threads=1)
    assert "error" not in r, r
    assert r["kind"] == kind and r["size"] == [64, 96] and r["memory"] == "VmHWM"
    assert r["peak_bytes"] >= r["before_bytes"] > 0
    assert r["step_bytes"] == r["peak_bytes"] - r["before_bytes"] > 0
    assert r["params"] > 0


def test_matrix_work_counts_matrix_products_whichever_kernel_runs_them():
    spec = importlib.util.spec_from_file_location("profile_step", REPO / "tools" / "profile_step.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    lin, x = torch.nn.Linear(8, 16), torch.randn(4, 8)
    w = torch.randn(3, 5, 6)
    # 2 FLOPs per multiply-add: addmm 4x8 @ 8x16, bmm 3 x (5x6 @ 6x7); elementwise ops are not counted
    gflop = tool.matrix_work_gflop(lambda: (lin(x).relu(), torch.bmm(w, torch.randn(3, 6, 7)) * 2))
    assert gflop * 1e9 == 2 * 4 * 8 * 16 + 2 * 3 * 5 * 6 * 7
    # a convolution: 2 x outputs x (in channels x kernel); its backward: the input and weight gradients
    conv, img = torch.nn.Conv2d(3, 5, 3, stride=2, padding=1), torch.randn(2, 3, 8, 8, requires_grad=True)
    forward = 2 * (2 * 5 * 4 * 4) * (3 * 3 * 3)
    assert tool.matrix_work_gflop(lambda: conv(img)) * 1e9 == forward
    assert tool.matrix_work_gflop(lambda: conv(img).sum().backward()) * 1e9 == 3 * forward
    # SDPA's fused kernel counts as its two products, as the same attention written out does
    q, k, v = (torch.randn(2, 3, 10, 4) for _ in range(3))
    products = 2 * (2 * 2 * 3 * 10 * 10 * 4)  # q k^T and p v, each 2 FLOPs per multiply-add
    assert tool.matrix_work_gflop(lambda: F.scaled_dot_product_attention(q, k, v)) * 1e9 == products
    written_out = tool.matrix_work_gflop(lambda: (q @ k.transpose(-2, -1)).softmax(-1) @ v)
    assert written_out * 1e9 == products


def test_main_writes_both_files(tmp_path, keep_threads, capsys):
    tool = _tool()
    out = tmp_path / "bench"
    argv = ["--sections", "eager", "--models", "regionvit_ti", "--size", "64", "--rounds", "1", "--iters",
            "1", "--train-iters", "1", "--infer-batch", "1", "--train-batch", "1", "--threads", "1",
            "--out", str(out)]  # fmt: skip
    assert tool.main(argv) == 0
    data = json.loads((out / "benchmark.json").read_text())
    assert data["header"]["threads"] == 1 and data["header"]["sections"] == ["eager"]
    assert [(r["section"], r["what"], r["ours"]) for r in data["rows"]] == [
        ("eager", "inference", "regionvit_ti"),
        ("eager", "train step", "regionvit_ti"),
    ]
    assert all(
        r["baseline"] == tool.SWIN and r["ratio"] > 0 and r["ratio_kind"] == "speed" for r in data["rows"]
    )
    # each speed row's bound: Swin-T's matrix-product work over ours, counted at the same size and batch
    work = tool.matrix_work(["regionvit_ti", tool.SWIN], tool.parse_args(argv))
    for r, kind in zip(data["rows"], ("infer", "train")):
        assert r["bound"] == pytest.approx(work[f"{tool.SWIN}/{kind}"] / work[f"regionvit_ti/{kind}"])
        assert 0.1 < r["bound"] < 10
    md = (out / "benchmark.md").read_text()
    assert "| eager | inference | 64x64, batch 1 | regionvit_ti:" in md
    assert md.splitlines()[0] in capsys.readouterr().out  # printed too


def test_detection_section_times_compiled_backbones_beside_eager(tmp_path, keep_threads, monkeypatch):
    """``--det-compiled``: every pair gets an eager and a compiled step row, the compiled row timing what
    ``torch.compile`` returned (here with Dynamo's eager backend: the plumbing, not Inductor's build)."""
    pytest.importorskip("detectron2")
    tool = _tool()
    compiled, compile_ = [], torch.compile

    def compile_eager(fn, **kwargs):
        compiled.append(kwargs)
        return compile_(fn, backend="eager", **kwargs)

    monkeypatch.setattr(torch, "compile", compile_eager)
    argv = ["--sections", "detection", "--models", "regionvit_ti", "--det-sizes", "64x96", "--det-rounds",
            "1", "--det-compiled", "--threads", "1", "--out", str(tmp_path)]  # fmt: skip
    assert tool.main(argv) == 0
    assert compiled == [{"dynamic": False}] * 2  # ours and Detectron2's Swin-T
    rows = json.loads((tmp_path / "benchmark.json").read_text())["rows"]
    assert [(r["what"], r["ours"], r["baseline"]) for r in rows] == [
        ("backbone train step", "regionvit_ti", tool.SWIN_D2),
        ("backbone train step, compiled", "regionvit_ti", tool.SWIN_D2),
        ("backbone train step memory", "regionvit_ti", tool.SWIN_D2),
    ]
    for r in rows[:2]:
        assert r["ours_value"] > 0 and r["baseline_value"] > 0 and r["ratio"] > 0 and r["bound"] > 0
