"""Checkpoints: the official rel-pos table layout, window changes when loading (paper A.1), checkpoint
mismatches, and the official -> lgvit converter CLI (tools/convert_official_regionvit.py)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from conftest import OFFICIAL_DIR, REPO

import lgvit
from lgvit.checkpoint import load_state_dict, unwrap_state_dict
from lgvit.layers import (
    canonical_to_official_table,
    official_to_canonical_table,
    relative_position_index,
    resize_rel_pos_table,
)
from lgvit.models.regionvit import adapt_window

OFFICIAL_FILES = sorted(OFFICIAL_DIR.glob("*.pt")) if OFFICIAL_DIR.is_dir() else []
needs_official = pytest.mark.skipif(
    not OFFICIAL_FILES, reason=f"official RegionViT reference outputs not found in {OFFICIAL_DIR}"
)
WINDOWS = [1, 2, 3, 7, 12, 14]


# ------------------------------------------------------------------------ official rel-pos layout


def official_rel_pos_index(M: int) -> torch.Tensor:
    """The official index construction, re-written from its description: a (2M-1) x (2M-1) grid of table
    positions ``tmp``; for query (y, x) and key (dy, dx) (absolute positions in the window) the entry is
    ``tmp[dy - y + M//2, dx - x + M//2]``, Python negative indices wrapping around."""
    side = 2 * M - 1
    tmp = [[r * side + c for c in range(side)] for r in range(side)]
    out = []
    for y in range(M):
        for x in range(M):
            for dy in range(M):
                for dx in range(M):
                    out.append(tmp[dy - y + M // 2][dx - x + M // 2])
    return torch.tensor(out).reshape(M * M, M * M)


@pytest.mark.parametrize("M", WINDOWS)
def test_official_and_canonical_tables_are_inverse(M):
    t = torch.randn(3, (2 * M - 1) ** 2)
    torch.testing.assert_close(
        canonical_to_official_table(official_to_canonical_table(t, M), M), t, rtol=0, atol=0
    )
    torch.testing.assert_close(
        official_to_canonical_table(canonical_to_official_table(t, M), M), t, rtol=0, atol=0
    )
    # a permutation: same multiset of values
    assert torch.equal(official_to_canonical_table(t, M).sort(-1).values, t.sort(-1).values)


@pytest.mark.parametrize("M", WINDOWS)
def test_canonical_bias_equals_official_bias(M):
    """The bias the official model adds for every (query, key) pair equals ours after the permutation."""
    heads = 2
    official = torch.randn(heads, (2 * M - 1) ** 2)
    official_bias = official[:, official_rel_pos_index(M).reshape(-1)].reshape(heads, M * M, M * M)
    canonical = official_to_canonical_table(official, M)
    ours = canonical[:, relative_position_index(M).reshape(-1)].reshape(heads, M * M, M * M)
    torch.testing.assert_close(ours, official_bias, rtol=0, atol=0)


@pytest.mark.parametrize("M", WINDOWS)
def test_canonical_index_is_swin_layout(M):
    """Ours indexes a (2M-1)^2 table by the key's offset from the query, (dy + M-1) * (2M-1) + dx + M-1."""
    idx = relative_position_index(M)
    for q in [0, M * M - 1, (M * M) // 2]:
        for k in [0, M - 1, M * M - 1]:
            dy, dx = k // M - q // M, k % M - q % M
            assert idx[q, k] == (dy + M - 1) * (2 * M - 1) + dx + M - 1


# --------------------------------------------------------------------------------- window change


def test_resize_to_the_same_window_is_identity():
    t = torch.randn(4, 13 * 13)
    assert torch.equal(resize_rel_pos_table(t, 7), t)
    sd = lgvit.create_model("regionvit_ti").state_dict()
    adapted = adapt_window(sd, 7)
    assert adapted.keys() == sd.keys()
    assert all(torch.equal(adapted[k], sd[k]) for k in sd)


def test_resize_keeps_the_zero_offset_and_constants():
    """align_corners=False bicubic: the table centre (offset 0) lands exactly on the new centre; a
    constant table stays constant; a smooth table survives 7 -> 14 -> 7 almost unchanged."""
    t = torch.randn(3, 13 * 13)
    big = resize_rel_pos_table(t, 14).reshape(3, 27, 27)
    torch.testing.assert_close(big[:, 13, 13], t.reshape(3, 13, 13)[:, 6, 6], rtol=0, atol=1e-6)
    const = torch.full((2, 13 * 13), 0.25)
    torch.testing.assert_close(
        resize_rel_pos_table(const, 12), torch.full((2, 23 * 23), 0.25), rtol=0, atol=1e-6
    )

    d = torch.linspace(-1, 1, 13)
    smooth = (torch.cos(d)[:, None] * torch.sin(d)[None, :]).reshape(1, -1)
    back = resize_rel_pos_table(resize_rel_pos_table(smooth, 14), 7)
    torch.testing.assert_close(back, smooth, rtol=0, atol=2e-2)
    # a bias decaying with distance keeps decaying with distance: the canonical layout is geometric
    dist = -(d[:, None].abs() + d[None, :].abs()).reshape(1, -1)
    big = resize_rel_pos_table(dist, 12).reshape(23, 23)
    assert big[11, 11] == big.max()
    assert (big[11, 11:].diff() < 0).all() and (big[11:, 11].diff() < 0).all()


def test_adapt_window_resizes_tables_and_regional_tokenizer():
    sd = lgvit.create_model("regionvit_ti").state_dict()
    target = lgvit.create_model("regionvit_ti", window=12)
    adapted = adapt_window(sd, 12)
    own = target.state_dict()
    assert adapted.keys() == own.keys()
    for k, v in own.items():
        assert adapted[k].shape == v.shape, k
        if k.endswith("rel_pos"):
            torch.testing.assert_close(adapted[k], resize_rel_pos_table(sd[k], 12), rtol=0, atol=0)
        elif k == "region_embed.proj.weight":
            assert sd[k].shape[-2:] == (28, 28) and v.shape[-2:] == (48, 48)
            expected = F.interpolate(sd[k], size=(48, 48), mode="bicubic", align_corners=False)
            torch.testing.assert_close(adapted[k], expected, rtol=0, atol=0)
        else:
            assert torch.equal(adapted[k], sd[k]), k
    target.load_state_dict(adapted)
    with torch.no_grad():
        assert target.eval()(torch.randn(1, 3, 384, 384)).shape == (1, 1000)


def test_checkpoint_filter_window_7_to_14_via_timm(tmp_path):
    import timm

    src = lgvit.create_model("regionvit_ti")
    path = tmp_path / "ti_w7.pth"
    torch.save({"model": src.state_dict()}, path)
    model = timm.create_model(
        "regionvit_ti_w14", pretrained=True, pretrained_cfg_overlay=dict(file=str(path))
    )
    expected = adapt_window(src.state_dict(), 14)
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, expected[k], rtol=0, atol=0, msg=k)
    with torch.no_grad():
        assert model.eval()(torch.randn(1, 3, 384, 384)).shape == (1, 1000)


@needs_official
def test_checkpoint_filter_official_format_same_and_new_window():
    ref = torch.load(OFFICIAL_FILES[0], weights_only=True)
    cfg = ref["config"]
    kw = dict(
        dims=tuple(cfg["embed_dim"][1:]),
        depths=tuple(cfg["depth"]),
        heads=tuple(cfg["num_heads"]),
        num_classes=cfg["num_classes"],
        out_norms=True,
        stem_convs=3 if cfg["patch_conv_type"] == "3conv" else 1,
        peg=cfg.get("peg", False),
    )
    official = ref["state_dict"]
    same = lgvit.RegionViT(window=7, **kw).eval()
    same.load_state_dict(same.checkpoint_filter(unwrap_state_dict({"model": official})))
    table = official["layers.0.block.1.attn.rel_pos"]
    torch.testing.assert_close(same.stages[0].blocks[0].rel_pos.data, official_to_canonical_table(table, 7))
    with torch.no_grad():
        torch.testing.assert_close(
            same(ref["cases"][0]["input"]), ref["cases"][0]["logits"], rtol=0, atol=1e-4
        )

    big = lgvit.RegionViT(window=12, **kw).eval()
    big.load_state_dict(big.checkpoint_filter(official))  # official -> canonical, then resize
    torch.testing.assert_close(
        big.stages[0].blocks[0].rel_pos.data, resize_rel_pos_table(official_to_canonical_table(table, 7), 12)
    )
    with torch.no_grad():
        out = big(torch.randn(1, 3, 384, 384))
    assert out.shape == (1, cfg["num_classes"]) and torch.isfinite(out).all()


# ----------------------------------------------------------------------------- checkpoint mismatch


@needs_official
def test_official_checkpoint_of_another_architecture_names_keys_and_shapes():
    a, b = (torch.load(f, weights_only=True) for f in OFFICIAL_FILES[:2])
    with pytest.raises(ValueError, match=r"checkpoint does not fit RegionViT") as e:
        lgvit.regionvit_from_official(a["config"], b["state_dict"])
    msg = str(e.value)
    assert "shape mismatches" in msg and "patch_embed" in msg
    assert "missing keys" in msg or "unexpected keys" in msg


def test_load_checked_names_missing_unexpected_and_shapes():
    model = lgvit.create_model("regionvit_ti")
    sd = model.state_dict()
    sd["stages.0.blocks.0.rel_pos"] = torch.zeros(2, 27 * 27)  # a window-14 table
    del sd["head.bias"]
    sd["bogus.weight"] = torch.zeros(1)
    with pytest.raises(ValueError) as e:
        load_state_dict(model, sd)
    msg = str(e.value)
    assert "stages.0.blocks.0.rel_pos: checkpoint (2, 729) vs model (2, 169)" in msg
    assert "missing keys (1): head.bias" in msg
    assert "unexpected keys (1): bogus.weight" in msg


# ------------------------------------------------------------------------------- converter CLI

TOOL = REPO / "tools" / "convert_official_regionvit.py"


def _load_tool():
    spec = importlib.util.spec_from_file_location("convert_official_regionvit", TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_converter_help_explains_every_flag():
    out = subprocess.run(
        [sys.executable, str(TOOL), "--help"], capture_output=True, text=True, check=True
    ).stdout
    for flag in ["--variant", "--window", "--det-norms", "--num-classes", "--output"]:
        assert flag in out
    assert "official" in out.lower()


@needs_official
@pytest.mark.parametrize("path", OFFICIAL_FILES, ids=[f.stem for f in OFFICIAL_FILES])
def test_converter_end_to_end_reproduces_reference_logits(tmp_path, path):
    tool = _load_tool()
    ref = torch.load(path, weights_only=True)
    src = tmp_path / "official.pth"
    torch.save({"model": ref["state_dict"], "epoch": 300}, src)  # the official releases wrap it like this
    dst = tmp_path / "ours.pth"
    assert tool.main([str(src), "--output", str(dst)]) == 0
    ckpt = torch.load(dst, weights_only=True)
    assert ckpt["variant"] is None  # the test configs are no registered variant
    assert ckpt["window"] == 7
    args = ckpt["model_args"]
    assert args["dims"] == tuple(ref["config"]["embed_dim"][1:]) or args["dims"] == list(
        ref["config"]["embed_dim"][1:]
    )
    model = tool.build_from_converted(ckpt).eval()
    with torch.no_grad():
        for case in ref["cases"]:
            torch.testing.assert_close(model(case["input"]), case["logits"], rtol=0, atol=1e-4)
            for ours, theirs in zip(model.forward_pyramid(case["input"]), case["features"]):
                torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-4)
    # drop the detection norms: a classification checkpoint
    dst2 = tmp_path / "cls.pth"
    assert tool.main([str(src), "--output", str(dst2), "--det-norms", "drop"]) == 0
    ckpt2 = torch.load(dst2, weights_only=True)
    assert not any(k.startswith("det_norms") for k in ckpt2["model"])
    assert ckpt2["model_args"]["out_norms"] is False
    with torch.no_grad():
        case = ref["cases"][0]
        logits = tool.build_from_converted(ckpt2).eval()(case["input"])
    torch.testing.assert_close(logits, case["logits"], rtol=0, atol=1e-4)


@needs_official
def test_converter_window_change_and_script_entry_point(tmp_path):
    ref = torch.load(OFFICIAL_FILES[0], weights_only=True)
    src = tmp_path / "official.pth"
    torch.save(ref["state_dict"], src)  # bare state dict works too
    dst = tmp_path / "w12.pth"
    res = subprocess.run(
        [sys.executable, str(TOOL), str(src), "--output", str(dst), "--window", "12"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr
    assert "window 7 -> 12" in res.stdout
    ckpt = torch.load(dst, weights_only=True)
    assert ckpt["window"] == 12 and ckpt["model_args"]["window"] == 12
    assert ckpt["model"]["region_embed.proj.weight"].shape[-1] == 48
    table = ref["state_dict"]["layers.0.block.1.attn.rel_pos"]
    expected = resize_rel_pos_table(official_to_canonical_table(table, 7), 12)
    torch.testing.assert_close(ckpt["model"]["stages.0.blocks.0.rel_pos"], expected, rtol=0, atol=0)
    tool = _load_tool()
    with torch.no_grad():
        out = tool.build_from_converted(ckpt).eval()(torch.randn(1, 3, 384, 384))
    assert out.shape == (1, ref["config"]["num_classes"])


def test_converter_infers_registered_variant_and_checks_explicit_one(tmp_path):
    tool = _load_tool()
    official = tool.to_official_format(lgvit.create_model("regionvit_ti").state_dict())  # round trip helper
    assert any(k.startswith("layers.") for k in official)
    src = tmp_path / "official_ti.pth"
    torch.save({"model": official}, src)
    dst = tmp_path / "ti.pth"
    assert tool.main([str(src), "-o", str(dst)]) == 0
    ckpt = torch.load(dst, weights_only=True)
    assert ckpt["variant"] == "regionvit_ti"
    model = lgvit.create_model("regionvit_ti")
    model.load_state_dict(ckpt["model"])  # strict: loads into the registered variant as is

    # explicit variant that matches except for the window: converted to that window
    dst14 = tmp_path / "ti14.pth"
    assert tool.main([str(src), "-o", str(dst14), "--variant", "regionvit_ti_w14"]) == 0
    ckpt14 = torch.load(dst14, weights_only=True)
    assert ckpt14["variant"] == "regionvit_ti_w14" and ckpt14["window"] == 14
    lgvit.create_model("regionvit_ti_w14").load_state_dict(ckpt14["model"])

    # explicit variant of another architecture: a clear error naming what differs
    with pytest.raises(ValueError, match=r"regionvit_s.*dims") as e:
        tool.convert(torch.load(src, weights_only=True), variant="regionvit_s")
    assert "(64, 128, 256, 512)" in str(e.value)
    with pytest.raises(ValueError, match=r"unknown variant 'regionvit_x'"):
        tool.convert(torch.load(src, weights_only=True), variant="regionvit_x")


def test_converter_rejects_non_regionvit_checkpoints(tmp_path):
    tool = _load_tool()
    with pytest.raises(ValueError, match="not an official RegionViT state dict"):
        tool.convert({"model": {"conv1.weight": torch.zeros(1)}})
    with pytest.raises(ValueError, match="not an official RegionViT state dict"):
        tool.convert({"model": lgvit.create_model("regionvit_ti").state_dict()})  # already ours


@pytest.mark.parametrize("kind", ["missing", "empty", "garbage", "text", "bare_tensor"])
def test_converter_bad_input_files_get_one_clear_line(tmp_path, kind):
    """Issue 12, item 8: the converter's input goes through lgvit.checkpoint's reader: exit 2 and one
    ``error:`` line naming the file, no traceback."""
    src = tmp_path / f"{kind}.pth"
    if kind == "empty":
        src.write_bytes(b"")
    elif kind == "garbage":
        src.write_bytes(bytes(range(256)) * 4)
    elif kind == "text":
        src.write_text("model weights are elsewhere\n")
    elif kind == "bare_tensor":
        torch.save(torch.zeros(4), src)
    res = subprocess.run(
        [sys.executable, str(TOOL), str(src), "--output", str(tmp_path / "o.pth")],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 2, res.stderr[-2000:]
    assert "Traceback" not in res.stderr and "error: " in res.stderr and str(src) in res.stderr
