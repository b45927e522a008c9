"""Classification checkpoints (ours and official RegionViT) -> detector weights: keys, window change,
Detectron2's DetectionCheckpointer, reference features, and clear errors for the wrong architecture
(another variant, another model family's state dict)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
from conftest import OFFICIAL_DIR
from detectron2.checkpoint import DetectionCheckpointer
from detectron2.config import instantiate
from lgvit_det.checkpoint import (
    classification_to_detector,
    load_backbone_weights,
    read_state_dict,
    save_detector_checkpoint,
)
from lgvit_det.engine import load_config, load_weights

import lgvit
from lgvit.checkpoint import CheckpointError

REPO = Path(__file__).resolve().parents[1]
OFFICIAL = OFFICIAL_DIR  # $LGVIT_SHARED/testdata/regionvit_official
SHAPES = str(REPO / "configs" / "shapes" / "mask_rcnn_regionvit_tiny_shapes.py")
# the architecture of the official reference checkpoint "a" (3-conv stem, window 7, with det norms)
ARCH_A = dict(dims=(32, 64, 128, 256), depths=(2, 2, 2, 1), heads=(1, 2, 4, 8))
PREFIX = "backbone.bottom_up.model."


def detector(window: int = 7, opts: tuple[str, ...] = (), **arch) -> torch.nn.Module:
    arch = arch or ARCH_A
    opts = [*opts, *(f"model.backbone.bottom_up.model.{k}={list(v)}" for k, v in arch.items())]
    opts.append(f"model.backbone.bottom_up.model.window={window}")
    return instantiate(load_config(SHAPES, opts).model).eval()


def official(name: str = "a") -> dict:
    path = OFFICIAL / f"regionvit_official_{name}.pt"
    if not path.exists():
        pytest.skip(f"shared test data {path} not available")
    return torch.load(path, weights_only=True)


def ours_classification() -> dict[str, torch.Tensor]:
    torch.manual_seed(1)
    return lgvit.create_model("regionvit_ti", num_classes=10, **ARCH_A).state_dict()


def test_official_checkpoint_gives_the_official_detection_features():
    """Official weights (with their detection norms norm0..3) through our conversion and adapter give
    the official detection path's per-stage features, also at a size that needs padding."""
    data = official("a")
    model = detector()
    report = load_backbone_weights(model, data["state_dict"])
    assert report["new"] == []  # this checkpoint carries the detection norms
    assert report["dropped"] == ["head.bias", "head.weight", "norm.bias", "norm.weight"]
    with torch.no_grad():
        for case in data["cases"]:
            out = model.backbone.bottom_up(case["input"])
            for name, ref in zip(("res2", "res3", "res4", "res5"), case["features"]):
                torch.testing.assert_close(out[name], ref, atol=2e-4, rtol=1e-4)


def test_our_checkpoint_round_trip_through_detection_checkpointer(tmp_path):
    sd = ours_classification()
    path = tmp_path / "det.pth"
    report = save_detector_checkpoint(detector(), sd, path)
    assert sorted(k[len("backbone.bottom_up.model.det_norms.") :] for k in report["new"]) == sorted(
        f"{i}.{p}" for i in range(4) for p in ("weight", "bias")
    )
    assert set(report["dropped"]) == {"head.weight", "head.bias", "norm.weight", "norm.bias"}
    saved = torch.load(path, weights_only=True)  # plain tensors: loadable without code execution
    assert all(k.startswith(PREFIX) for k in saved["model"])

    model = detector()
    DetectionCheckpointer(model).load(str(path))
    own = model.state_dict()
    for k, v in sd.items():
        if not k.startswith(("head.", "norm.")):
            torch.testing.assert_close(own[PREFIX + k], v, rtol=0, atol=0)


def test_train_init_checkpoint_accepts_classification_and_detector_files(tmp_path):
    sd = ours_classification()
    cls_path, det_path = tmp_path / "cls.pth", tmp_path / "det.pth"
    torch.save({"model": sd}, cls_path)
    m1 = detector()
    load_weights(m1, str(cls_path))  # classification weights: converted on the fly
    torch.save({"model": m1.state_dict()}, det_path)
    m2 = detector()
    load_weights(m2, str(det_path))  # detector weights: Detectron2's checkpointer
    for (k, a), b in zip(m1.state_dict().items(), m2.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=k)


def test_window_change_resizes_the_tables():
    """Window-7 weights into a window-14 ("+") detector: rel-pos tables and the regional tokenizer are
    resized (paper A.1) and the strict check passes."""
    model = detector(window=14)
    load_backbone_weights(model, ours_classification())
    table = dict(model.named_parameters())[PREFIX + "stages.0.blocks.0.rel_pos"]
    assert table.shape[-1] == 27 * 27 or table.shape[-2:] == (27, 27)


def test_checkpoint_of_another_architecture_is_refused_with_a_list():
    data = official("b")  # 1-conv stem, PEG, other widths
    with pytest.raises(
        CheckpointError, match=r"does not fit.*\n.*(shape mismatches|missing|unexpected)"
    ) as err:
        load_backbone_weights(detector(), data["state_dict"])
    assert "another model" in str(err.value) and "detection config" in str(err.value)
    wider = lgvit.create_model("regionvit_ti", num_classes=10).state_dict()  # 64..512 wide
    with pytest.raises(CheckpointError, match="shape mismatches"):
        load_backbone_weights(detector(), wider)


def test_swin_style_state_dict_is_refused_naming_its_keys():
    """A state dict of another family whose keys start with ``layers.`` (Swin) is not taken for an official
    RegionViT one (it once died with ``KeyError: 'qkv'``): one CheckpointError names what does not fit."""
    import timm

    with torch.device("meta"):  # only names and shapes matter
        swin = timm.create_model("swin_tiny_patch4_window7_224").state_dict()
    assert any(k.startswith("layers.") for k in swin)
    with pytest.raises(CheckpointError) as err:
        load_backbone_weights(detector(), swin)
    msg = str(err.value)
    assert "does not fit" in msg and "unexpected keys" in msg and "missing keys" in msg
    assert "layers.0.blocks.0.attn.qkv.weight" in msg or "layers.0.blocks.0." in msg


def test_dropped_keys_are_the_modules_the_backbone_pruned():
    """Generic rule: checkpoint keys whose module is an ``nn.Identity`` in the pruned backbone (the
    classifier and final norm; the detection norms of a model built without them) are dropped; keys of
    modules the backbone never had are refused."""
    sd = dict(official("a")["state_dict"])  # carries the detection norms norm0..3
    plain = detector(
        opts=[
            "model.backbone.bottom_up.model.out_norms=False",
            "model.backbone.bottom_up.require_out_norms=False",
        ]
    )
    _, report = classification_to_detector(sd, plain)
    assert report["dropped"] == sorted(
        ["head.bias", "head.weight", "norm.bias", "norm.weight"]
        + [f"det_norms.{i}.{p}" for i in range(4) for p in ("weight", "bias")]
    )
    assert report["new"] == []
    sd["extra.weight"] = torch.zeros(3)
    with pytest.raises(CheckpointError, match=r"unexpected keys \(1\): extra.weight"):
        classification_to_detector(sd, detector())


def test_detector_weights_are_not_converted_twice():
    with pytest.raises(CheckpointError, match="detector weights already"):
        classification_to_detector({"backbone.x": torch.zeros(1)}, detector())


def test_unreadable_and_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_state_dict(tmp_path / "nope.pth")
    bad = tmp_path / "bad.pth"
    bad.write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match="bad.pth"):  # lgvit.checkpoint's reader, naming the file
        read_state_dict(bad)


def test_cli_converts_and_refuses(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location(
        "convert_cls_to_det", REPO / "tools" / "convert_cls_to_det.py"
    )
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    src, out = tmp_path / "cls.pth", tmp_path / "det.pth"
    torch.save(ours_classification(), src)
    arch = [f"model.backbone.bottom_up.model.{k}={list(v)}" for k, v in ARCH_A.items()]
    assert cli.main([str(src), str(out), "--config-file", SHAPES, *arch]) == 0
    assert "final norm): head.bias, head.weight, norm.bias, norm.weight" in capsys.readouterr().out
    assert out.exists()
    # the shapes config's own backbone is shallower (depths 1-1-2-1): its blocks do not match
    assert cli.main([str(src), str(tmp_path / "x.pth"), "--config-file", SHAPES]) == 2
    err = capsys.readouterr().err
    assert "does not fit" in err and "unexpected keys (" in err and ".blocks.1." in err
    assert not (tmp_path / "x.pth").exists()


def test_cli_reports_a_bad_override(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location(
        "convert_cls_to_det", REPO / "tools" / "convert_cls_to_det.py"
    )
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    src = tmp_path / "cls.pth"
    torch.save(ours_classification(), src)
    argv = [
        str(src),
        str(tmp_path / "det.pth"),
        "--config-file",
        SHAPES,
        "model.backbone.bottom_up.modle.depths=[1]",
    ]
    assert cli.main(argv) == 2
    assert "unknown config key" in capsys.readouterr().err
