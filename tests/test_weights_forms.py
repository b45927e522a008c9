"""Weights as users hold them (issue 23): ``.pth``, ``.safetensors`` and timm model directories.

* every family: timm's ``save_for_hf`` and ``lgvit.checkpoint.save_pretrained`` -> ``timm.create_model(
  "local-dir:DIR", pretrained=True)`` gives the saved model (eval outputs equal at an odd input size);
* a ``.safetensors`` file through each loader (``load_pretrained``, timm's ``pretrained_cfg_overlay``,
  the video loader, the Detectron2 backbone loader), whatever the file is named;
* damaged and foreign ``.safetensors`` files get the same messages as damaged / foreign ``.pth`` files;
* nothing is downloaded: ``hf-hub:`` names without a local copy get a message saying how to make one.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import timm
import torch
from safetensors.torch import save_file
from timm.models import save_for_hf

import lgvit
from lgvit.checkpoint import (
    CheckpointError,
    load_pretrained,
    read_checkpoint,
    read_state_dict,
    save_pretrained,
    save_state_dict,
)

REPO = Path(__file__).resolve().parents[1]
# the smallest registered variant of each family
FAMILIES = ["regionvit_ti", "salg_st", "rsir_t"]
ODD = (1, 3, 97, 75)  # needs padding in every family


def _outputs(model: torch.nn.Module, seed: int = 0) -> torch.Tensor:
    x = torch.randn(ODD, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        return model.eval()(x)


def _perturb(model: torch.nn.Module) -> torch.nn.Module:
    """Moves every parameter off its initialisation (zero-initialised parts included), so that a rebuilt
    model that silently kept fresh weights cannot pass."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.02 * torch.randn(p.shape, generator=g))
    return model.eval()


@pytest.mark.parametrize("name", FAMILIES)
def test_model_directories_from_timm_and_lgvit_rebuild_the_saved_model(tmp_path, name):
    saved = _perturb(timm.create_model(name, num_classes=7))
    ref = _outputs(saved)
    save_for_hf(saved, tmp_path / "timm", safe_serialization=True)  # timm's own writer
    mine = _perturb(lgvit.create_model(name, num_classes=5))
    save_pretrained(mine, tmp_path / "lgvit", label_names=list("abcde"))
    assert sorted(p.name for p in (tmp_path / "lgvit").iterdir()) == ["config.json", "model.safetensors"]
    config = json.loads((tmp_path / "lgvit" / "config.json").read_text())
    assert config["architecture"] == name and config["num_classes"] == 5
    assert config["label_names"] == list("abcde")

    for directory, model, n in ((tmp_path / "timm", saved, 7), (tmp_path / "lgvit", mine, 5)):
        rebuilt = timm.create_model(f"local-dir:{directory}", pretrained=True)
        assert rebuilt.num_classes == n
        assert "state_dict" not in rebuilt.pretrained_cfg  # no second copy of the weights kept
        torch.testing.assert_close(_outputs(rebuilt), _outputs(model), rtol=0, atol=0)
        # without pretrained=True timm builds fresh weights (as it documents): the check above can fail
        fresh = timm.create_model(f"local-dir:{directory}", pretrained=False)
        assert not torch.allclose(_outputs(fresh), _outputs(model), atol=1e-3)
    torch.testing.assert_close(_outputs(saved), ref, rtol=0, atol=0)
    # lgvit.create_model takes the same names
    again = lgvit.create_model(f"local-dir:{tmp_path / 'lgvit'}")
    torch.testing.assert_close(_outputs(again), _outputs(mine), rtol=0, atol=0)


def test_save_for_hf_pickle_layout_and_model_arguments_survive(tmp_path):
    """timm's default ``save_for_hf`` writes ``pytorch_model.bin``; a non-default constructor argument
    (detection norms) is recorded by lgvit.create_model and rebuilt."""
    model = _perturb(lgvit.create_model("regionvit_ti", num_classes=3, out_norms=True))
    save_for_hf(model, tmp_path / "bin")
    assert (tmp_path / "bin" / "pytorch_model.bin").is_file()
    rebuilt = timm.create_model(f"local-dir:{tmp_path / 'bin'}", pretrained=True)
    assert rebuilt.state_dict().keys() == model.state_dict().keys()
    assert any(k.startswith("det_norms.") for k in rebuilt.state_dict())
    torch.testing.assert_close(_outputs(rebuilt), _outputs(model), rtol=0, atol=0)
    # the one reader takes the directory itself, as every loader does
    sd = read_state_dict(tmp_path / "bin")
    torch.testing.assert_close(sd["det_norms.0.weight"], model.state_dict()["det_norms.0.weight"])


@pytest.mark.parametrize("suffix", [".safetensors", ".pth", ".ckpt", ".bin"])
def test_one_reader_whatever_the_file_is_named(tmp_path, suffix):
    """safetensors content under any name, torch.save content under any name."""
    model = _perturb(lgvit.create_model("regionvit_ti", num_classes=4))
    st = tmp_path / f"st{suffix}"
    save_file(dict(model.state_dict()), str(st))
    pt = tmp_path / f"pt{suffix}"
    torch.save({"state_dict": model.state_dict(), "epoch": 3}, pt)  # Lightning-style wrapper
    for path in (st, pt):
        target = lgvit.create_model("regionvit_ti", num_classes=4)
        report = load_pretrained(target, path)
        assert not report.missing and not report.dropped
        torch.testing.assert_close(_outputs(target), _outputs(model), rtol=0, atol=0)


@pytest.mark.parametrize("name", FAMILIES)
def test_safetensors_through_timm_overlay_video_and_detectron2_loaders(tmp_path, name):
    model = _perturb(lgvit.create_model(name, num_classes=4))
    path = save_state_dict(model, tmp_path / "w.safetensors")
    assert not list(tmp_path.glob("*.tmp"))
    # timm's pretrained flow with a file
    rebuilt = timm.create_model(
        name, num_classes=4, pretrained=True, pretrained_cfg_overlay={"file": str(path)}
    )
    torch.testing.assert_close(_outputs(rebuilt), _outputs(model), rtol=0, atol=0)
    # the video loader
    from video.models import VideoTransformer
    from video.models.checkpoint import load_image_checkpoint

    pth = save_state_dict(model, tmp_path / "w.pth")
    videos = []
    for weights in (path, pth):
        torch.manual_seed(0)
        videos.append(VideoTransformer(lgvit.create_model(name, num_classes=4), num_frames=2))
        load_image_checkpoint(videos[-1], weights)
    a, b = (v.state_dict() for v in videos)
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0)
    shared = [k for k in model.state_dict() if f"backbone.{k}" in a]
    assert len(shared) > 10
    for k in shared:
        torch.testing.assert_close(a[f"backbone.{k}"], model.state_dict()[k], rtol=0, atol=0)
    # the Detectron2 backbone loader
    pytest.importorskip("detectron2")
    from lgvit_det.backbone import LGViTBackbone
    from lgvit_det.checkpoint import load_backbone_weights

    backbone = LGViTBackbone(lgvit.create_model(name, out_norms=True))
    report = load_backbone_weights(backbone, path)
    assert report["new"] and all("det_norms" in k for k in report["new"])
    got = backbone.model.state_dict()
    for k in report["loaded"]:
        torch.testing.assert_close(got[k[len("model.") :]], model.state_dict()[k[len("model.") :]])


def _damage(path: Path, kind: str) -> Path:
    data = path.read_bytes()
    out = path.with_name(f"{kind}{path.suffix}")
    if kind == "truncated":
        out.write_bytes(data[: len(data) // 2])
    elif kind == "header":  # cut inside the header
        out.write_bytes(data[:40])
    elif kind == "garbage":
        out.write_bytes(b"this is not a checkpoint at all\n" * 20)
    elif kind == "empty":
        out.write_bytes(b"")
    return out


@pytest.mark.parametrize(
    "kind,message",
    [
        ("truncated", "is truncated or damaged"),
        ("garbage", "is not a PyTorch checkpoint"),
        ("empty", r"is empty \(0 bytes\)"),
    ],
)
def test_damaged_safetensors_get_the_messages_of_damaged_pth(tmp_path, kind, message):
    model = lgvit.create_model("regionvit_ti", num_classes=4)
    good_st = save_state_dict(model, tmp_path / "good.safetensors")
    good_pt = save_state_dict(model, tmp_path / "good.pth")
    for good in (good_st, good_pt):
        bad = _damage(good, kind)
        with pytest.raises(CheckpointError, match=message) as e:
            read_checkpoint(bad)
        assert str(bad) in str(e.value)
        # the same through timm's pretrained flow
        with pytest.raises(CheckpointError, match=message):
            timm.create_model("regionvit_ti", pretrained=True, pretrained_cfg_overlay={"file": str(bad)})
    with pytest.raises(CheckpointError, match="is truncated or damaged"):
        read_checkpoint(_damage(good_st, "header"))


def test_foreign_safetensors_named_like_pth_foreign_files(tmp_path):
    """Another model's weights: the same 'does not fit' message, naming keys and shapes, for both formats."""
    other = timm.create_model("resnet18", num_classes=4)
    messages = []
    for path in (tmp_path / "r18.safetensors", tmp_path / "r18.pth"):
        save_state_dict(other, path)
        with pytest.raises(CheckpointError, match="does not fit") as e:
            load_pretrained(lgvit.create_model("rsir_t", num_classes=4), path)
        messages.append(str(e.value))
    assert messages[0] == messages[1]
    assert "missing keys" in messages[0] and "unexpected keys" in messages[0]


def test_nothing_is_downloaded_and_the_messages_say_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty cache
    with pytest.raises(ValueError, match="ships no pretrained weights and downloads nothing"):
        timm.create_model("salg_st", pretrained=True)
    with pytest.raises(CheckpointError, match="huggingface-cli download nobody/model --local-dir"):
        timm.create_model(
            "salg_st", pretrained=True, pretrained_cfg_overlay=dict(source="hf-hub", hf_hub_id="nobody/model")
        )
    with pytest.raises(CheckpointError, match="not in the local Hugging Face cache"):
        lgvit.create_model("hf-hub:nobody/model")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no config.json"):
        lgvit.create_model(f"local-dir:{tmp_path / 'empty'}")
    with pytest.raises(CheckpointError, match="not a model directory"):
        read_checkpoint(tmp_path / "empty")
    (tmp_path / "empty" / "config.json").write_text('{"architecture": "salg_st", "pretr')
    with pytest.raises(CheckpointError, match=r"config.json is truncated or damaged"):
        lgvit.create_model(f"local-dir:{tmp_path / 'empty'}")


def test_converter_writes_a_model_directory(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "convert_official_regionvit", REPO / "tools" / "convert_official_regionvit.py"
    )
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    ours = _perturb(lgvit.create_model("regionvit_ti", num_classes=6))
    official = tmp_path / "official.pth"
    torch.save({"model": tool.to_official_format(ours.state_dict())}, official)
    assert tool.main([str(official), "--model-dir", str(tmp_path / "dir")]) == 0
    rebuilt = timm.create_model(f"local-dir:{tmp_path / 'dir'}", pretrained=True)
    assert rebuilt.num_classes == 6
    torch.testing.assert_close(_outputs(rebuilt), _outputs(ours), rtol=1e-5, atol=1e-5)
    assert tool.main([str(official)]) == 2  # neither -o nor --model-dir


def test_detector_weights_file_in_every_form(tmp_path):
    """lgvit_det.checkpoint.load_weights_file: classification weights (.safetensors) go to the backbone;
    a whole detector's weights as .safetensors load back exactly."""
    pytest.importorskip("detectron2")
    from detectron2.config import instantiate
    from lgvit_det.checkpoint import load_weights_file
    from lgvit_det.engine import load_config

    cfg = load_config(str(REPO / "configs" / "shapes" / "mask_rcnn_regionvit_tiny_shapes.py"))
    detector = instantiate(cfg.model).eval()
    trained = _perturb(instantiate(cfg.model))
    path = save_state_dict(trained, tmp_path / "detector.safetensors")
    assert load_weights_file(detector, path) == []
    for k, v in trained.state_dict().items():
        torch.testing.assert_close(detector.state_dict()[k], v, rtol=0, atol=0)
    # the backbone's own weights (classification form) -> only the backbone is loaded
    backbone_sd = {
        k[len("backbone.bottom_up.model.") :]: v
        for k, v in trained.state_dict().items()
        if k.startswith("backbone.bottom_up.model.")
    }
    save_state_dict(backbone_sd, tmp_path / "cls.safetensors")
    fresh = instantiate(cfg.model)
    left = load_weights_file(fresh, tmp_path / "cls.safetensors")
    assert left and not any(k.startswith("backbone.bottom_up.") for k in left)
    for k, v in backbone_sd.items():
        torch.testing.assert_close(fresh.backbone.bottom_up.model.state_dict()[k], v, rtol=0, atol=0)
