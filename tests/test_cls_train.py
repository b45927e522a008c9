"""The classification trainer: exact resume, checkpoints that the detector and the video model load,
224 -> 384 fine-tuning with adapted windows, evaluation, bad input and the command line."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from cls_helpers import CLS_CONFIGS, DIGITS_CONFIG, REPO, make_folder, tiny_config
from detectron2.config import LazyCall as L
from detectron2.config import instantiate
from timm.data import Mixup
from timm.utils import ModelEmaV3

import lgvit
from lgvit.checkpoint import CheckpointError, read_checkpoint
from lgvit.classification import REQUIRED, run
from lgvit.classification.engine import ClassificationTrainer, load_eval_weights, load_initial_weights
from lgvit.config import load_config
from lgvit.models.regionvit import adapt_window

TINY = dict(dims=(32, 64, 128, 256), depths=(1, 1, 2, 1), heads=(1, 2, 4, 8), stem_convs=3)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("cls_data")
    return make_folder(root / "train", per_class=8), make_folder(root / "val", per_class=3, seed=1)


@pytest.fixture(scope="module")
def trained(folders, tmp_path_factory):
    """A checkpoint written by the trainer (1 epoch of the tiny digits model on generated images)."""
    out = tmp_path_factory.mktemp("cls_run")
    result = run(tiny_config(*folders, out))
    return out, result


def records(out: Path, kind: str) -> list[dict]:
    lines = (out / "metrics.json").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["kind"] == kind]


def test_training_writes_checkpoints_logs_and_evaluates(trained, folders):
    out, result = trained
    assert {p.name for p in out.iterdir()} >= {"last.pth", "model_final.pth", "metrics.json", "config.yaml"}
    assert result["num_images"] == 9 and result["skipped_images"] == 0
    assert 0 <= result["top1"] <= result["top5"] <= 100
    train = records(out, "train")
    assert [r["iteration"] for r in train] == [1, 2, 3, 4]  # 24 images, batch 6, log every step
    assert all(set(r) >= {"time", "epoch", "loss", "lr", "images_per_s", "eta_min"} for r in train)
    ev = records(out, "eval")
    assert len(ev) == 1 and ev[0]["top1"] == result["top1"] and ev[0]["epoch"] == 1
    last = read_checkpoint(out / "last.pth")
    assert set(last) >= {"model", "optimizer", "scheduler", "scaler", "epoch", "step", "classes"}
    assert (last["epoch"], last["step"], last["classes"]) == (1, 4, ["a", "b", "c"])
    final = read_checkpoint(out / "model_final.pth")
    assert "optimizer" not in final
    for k, v in final["model"].items():
        assert torch.equal(v, last["model"][k]), k
    # evaluating the saved weights gives what training reported
    cfg = tiny_config(*folders, out)
    again = run(cfg, eval_only=True)
    assert again["top1"] == result["top1"] and again["loss"] == pytest.approx(result["loss"], abs=1e-6)


def _full_state_config(train_root, val_root, out, epochs=2):
    """Every piece of state at once: EMA, Mixup/CutMix, instance repetition, RandAugment + random
    erasing, drop path, gradient clipping, warm-up, a data-loading worker process."""
    cfg = tiny_config(
        train_root,
        val_root,
        out,
        f"train.epochs={epochs}",
        "train.repeats=3",
        "train.num_workers=1",
        "train.batch_size=12",
        "train.checkpoint_period=1",
        "train.eval_period=1",
        "scheduler.warmup_epochs=1",
        "model.drop_path_rate=0.1",
        "dataloader.train.transform.auto_augment='rand-m9-mstd0.5-inc1'",
        "dataloader.train.transform.re_prob=0.25",
        "dataloader.train.transform.re_mode='pixel'",
    )
    cfg.ema = L(ModelEmaV3)(decay=0.9)
    cfg.mixup = L(Mixup)(mixup_alpha=0.8, cutmix_alpha=1.0, label_smoothing=0.1)
    return cfg


def test_resume_matches_an_uninterrupted_run(folders, tmp_path):
    full, part = tmp_path / "full", tmp_path / "part"
    run(_full_state_config(*folders, full))
    # an interrupted run: what the uninterrupted one had written after epoch 1, then --resume
    part.mkdir()
    shutil.copy(full / "checkpoint_0001.pth", part / "last.pth")
    run(_full_state_config(*folders, part), resume=True)
    a, b = read_checkpoint(full / "last.pth"), read_checkpoint(part / "last.pth")
    assert (a["epoch"], a["step"]) == (b["epoch"], b["step"]) == (2, 4)
    for key in ("model", "model_ema"):
        assert a[key].keys() == b[key].keys()
        for k in a[key]:
            assert torch.equal(a[key][k], b[key][k]), f"{key}.{k}"
    sa, sb = a["optimizer"]["state"], b["optimizer"]["state"]
    assert sa.keys() == sb.keys()
    for i in sa:
        for k in sa[i]:
            assert torch.equal(torch.as_tensor(sa[i][k]), torch.as_tensor(sb[i][k])), (i, k)
    assert [g["lr"] for g in a["optimizer"]["param_groups"]] == [
        g["lr"] for g in b["optimizer"]["param_groups"]
    ]
    assert a["scheduler"] == b["scheduler"]
    # the logged losses and evaluations of epoch 2 are the same numbers
    strip = ("time", "images_per_s", "eta_min")
    tail = [{k: v for k, v in r.items() if k not in strip} for r in records(full, "train") if r["epoch"] >= 1]
    resumed = [{k: v for k, v in r.items() if k not in strip} for r in records(part, "train")]
    assert tail == resumed and len(tail) == 2
    ev_full = [{k: v for k, v in r.items() if k != "time"} for r in records(full, "eval")][1:]
    ev_part = [{k: v for k, v in r.items() if k != "time"} for r in records(part, "eval")]
    assert ev_full == ev_part and "ema_top1" in ev_part[0]
    # the run did change the weights (a resume that skipped training would also "match" nothing)
    first = read_checkpoint(full / "checkpoint_0001.pth")["model"]
    assert any(not torch.equal(first[k], a["model"][k]) for k in first)


def test_checkpoint_loads_into_the_detector_without_missing_backbone_keys(trained):
    from lgvit_det.checkpoint import load_backbone_weights

    out, _ = trained
    cfg = load_config(REPO / "configs" / "shapes" / "mask_rcnn_regionvit_tiny_shapes.py")
    detector = instantiate(cfg.model)
    model = detector.backbone.bottom_up.model
    assert model.window == 7  # the checkpoint's model has window 2: window-dependent tensors are adapted
    report = load_backbone_weights(detector, out / "model_final.pth")
    prefix = "backbone.bottom_up.model."
    backbone_keys = {k for k in detector.state_dict() if k.startswith(prefix)}
    assert report["new"] == sorted(k for k in backbone_keys if k.startswith(prefix + "det_norms."))
    assert set(report["loaded"]) | set(report["new"]) == backbone_keys
    assert report["dropped"] == ["head.bias", "head.weight", "norm.bias", "norm.weight"]
    sd = read_checkpoint(out / "model_final.pth")["model"]
    adapted = adapt_window(sd, 7)
    own = detector.state_dict()
    for k in report["loaded"]:
        assert torch.equal(own[k], adapted[k[len(prefix) :]]), k
    assert adapted["region_embed.proj.weight"].shape[-1] == 28
    assert sd["region_embed.proj.weight"].shape[-1] == 8
    # train.init_checkpoint=<the trainer's last.pth> (the Detectron2 trainer's loading path): same weights
    from lgvit_det.engine import load_weights

    other = instantiate(cfg.model)
    load_weights(other, str(out / "last.pth"))
    for k in report["loaded"]:
        assert torch.equal(other.state_dict()[k], own[k]), k


def test_checkpoint_loads_into_the_video_model(trained):
    from video.models import build_video_model, load_image_checkpoint

    out, _ = trained
    model = build_video_model(
        "regionvit_ti", num_classes=3, num_frames=2, drop_path_rate=0.0, window=2, **TINY
    )
    report = load_image_checkpoint(model, out / "model_final.pth")
    assert report.missing and all(".temporal." in k for k in report.missing)
    assert report.unexpected == [] and report.dropped == []
    sd = read_checkpoint(out / "model_final.pth")["model"]
    own = model.state_dict()
    assert torch.equal(
        own["backbone.stages.0.blocks.0.spatial.attn.qkv.weight"], sd["stages.0.blocks.0.attn.qkv.weight"]
    )
    assert torch.equal(own["backbone.head.weight"], sd["head.weight"])
    # and through the builder's `pretrained` argument (what video configs' model.pretrained uses)
    built = build_video_model(
        "regionvit_ti", num_classes=3, num_frames=2, window=2, pretrained=str(out / "model_final.pth"), **TINY
    )
    assert torch.equal(
        built.state_dict()["backbone.patch_embed.proj.0.weight"], sd["patch_embed.proj.0.weight"]
    )


def test_384_finetune_config_starts_from_a_224_checkpoint_with_adapted_windows(tmp_path):
    cfg = load_config(CLS_CONFIGS / "imagenet_regionvit_s_384_ft.py", required=REQUIRED)
    assert cfg.model.name == "regionvit_s" and cfg.model.window == 12
    assert cfg.dataloader.train.transform.input_size == 384 and cfg.dataloader.val.transform.input_size == 384
    assert cfg.dataloader.val.transform.crop_pct == 1.0
    assert (cfg.optimizer.lr, cfg.optimizer.weight_decay, cfg.scheduler.warmup_epochs) == (2e-4, 1e-8, 0)
    assert (cfg.train.epochs, cfg.train.lr_base_batch) == (30, 1024)
    assert cfg.train.init_checkpoint.endswith("imagenet_regionvit_s/model_final.pth")
    # a 224x224 (window 7) RegionViT-S checkpoint in the trainer's format
    torch.manual_seed(3)
    src = lgvit.create_model("regionvit_s", num_classes=1000)
    path = tmp_path / "regionvit_s_224.pth"
    torch.save({"model": src.state_dict(), "epoch": 300, "classes": [str(i) for i in range(1000)]}, path)
    model = instantiate(cfg.model)
    report = load_initial_weights(model, path)
    assert report.missing == [] and report.unexpected == [] and report.dropped == []
    expected = adapt_window(src.state_dict(), 12)
    own = model.state_dict()
    rel = [k for k in own if k.endswith("rel_pos")]
    assert rel and all(own[k].shape != src.state_dict()[k].shape for k in rel)
    assert own["region_embed.proj.weight"].shape[-1] == 48  # 4 x window 12
    for k, v in expected.items():
        assert torch.equal(own[k], v), k
    with torch.no_grad():
        logits = model.eval()(torch.randn(1, 3, 384, 384))
    assert logits.shape == (1, 1000) and torch.isfinite(logits).all()


def test_evaluating_a_checkpoint_with_another_class_count_is_refused(trained, folders, tmp_path):
    out, _ = trained
    model = lgvit.create_model("regionvit_ti", num_classes=5, window=2, **TINY)
    with pytest.raises(CheckpointError, match="classifies 3 classes but the model has num_classes=5"):
        load_eval_weights(model, out / "model_final.pth", ["a", "b", "c", "d", "e"])
    model = lgvit.create_model("regionvit_ti", num_classes=3, window=2, **TINY)
    with pytest.raises(CheckpointError, match="other classes"):
        load_eval_weights(model, out / "model_final.pth", ["a", "b", "x"])
    # fine-tuning from it to another class count is fine: the classifier is left out
    report = load_initial_weights(
        lgvit.create_model("regionvit_ti", num_classes=5, window=2, **TINY), out / "last.pth"
    )
    assert report.dropped == ["head.bias", "head.weight"] and report.missing == ["head.bias", "head.weight"]
    # another architecture is named key by key
    with pytest.raises(
        ValueError, match=r"patch_embed.proj.0.weight: checkpoint \(8, 3, 3, 3\) vs model \(16, 3, 3, 3\)"
    ):
        load_initial_weights(lgvit.create_model("regionvit_ti", num_classes=3, window=2), out / "last.pth")


def test_config_class_count_must_match_the_folder(folders, tmp_path):
    cfg = tiny_config(*folders, tmp_path, "model.num_classes=10")
    with pytest.raises(ValueError, match=r"num_classes=10 but the training folder .* holds 3 classes"):
        ClassificationTrainer(cfg)


def test_unreadable_training_images_are_skipped_and_counted(folders, tmp_path):
    train, val = tmp_path / "train", tmp_path / "val"
    shutil.copytree(folders[0], train)
    shutil.copytree(folders[1], val)
    data = (train / "a" / "000.png").read_bytes()
    (train / "a" / "000.png").write_bytes(data[:100])  # truncated
    (val / "b" / "bad.png").write_bytes(b"\x89PNG not really")
    result = run(tiny_config(train, val, tmp_path / "out"))
    assert result["skipped_images"] == 1 and result["skipped_files"] == [str(val / "b" / "bad.png")]
    assert result["num_images"] == 9
    assert records(tmp_path / "out", "train")[-1]["skipped_images"] == 1


def _tool(name: str):
    spec = importlib.util.spec_from_file_location(f"_lgvit_tool_{name}", REPO / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_command_line(folders, tmp_path, capsys):
    out = subprocess.run(
        [sys.executable, str(REPO / "tools" / "train_cls.py"), "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for flag in ("--config-file", "--resume", "--eval-only", "--weights", "KEY=VALUE"):
        assert flag in out
    main = _tool("train_cls").main
    assert main(["--config-file", str(DIGITS_CONFIG), "train.epoch=3"]) == 2
    assert "Did you mean train.epochs" in capsys.readouterr().err
    assert (
        main(["--config-file", str(REPO / "configs" / "video" / "regionvit_tiny_motion_synthetic.py")]) == 2
    )
    assert "is not a classification config" in capsys.readouterr().err
    assert main(["--config-file", str(DIGITS_CONFIG), f"dataloader.train.root='{tmp_path / 'none'}'"]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "export_digits" in err
    # evaluation of the weights of another class count, through the command line
    cfg = [f"dataloader.train.root='{folders[0]}'", f"dataloader.val.root='{folders[1]}'"]
    ck = tmp_path / "ten_classes.pth"
    torch.save(
        {"model": lgvit.create_model("regionvit_ti", num_classes=10, window=2, **TINY).state_dict()}, ck
    )
    args = ["--config-file", str(DIGITS_CONFIG), "--eval-only", "--weights", str(ck), "model.num_classes=3"]
    assert main([*args, *cfg]) == 2
    assert "classifies 10 classes but the model has num_classes=3" in capsys.readouterr().err
