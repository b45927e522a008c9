"""The classification task on the training runtime: outputs (checkpoints, JSON metrics, TensorBoard),
exact mid-epoch resume, the damaged-checkpoint fallback, checkpoints that the detector and the video model
load, 224 -> 384 fine-tuning with adapted windows, evaluation, bad input and the command line."""

from __future__ import annotations

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
from lgvit_cls import REQUIRED, ClassificationTask, run
from lgvit_cls.engine import load_eval_weights, load_initial_weights
from lgvit_engine import ConfigError, load_config
from timm.data import Mixup
from timm.utils import ModelEmaV3

import lgvit
from lgvit.checkpoint import CheckpointError, read_checkpoint
from lgvit.models.regionvit import adapt_window

TINY = dict(dims=(32, 64, 128, 256), depths=(1, 1, 2, 1), heads=(1, 2, 4, 8), stem_convs=3)
TRAIN_NET = REPO / "projects" / "LGViTCls" / "train_net.py"


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("cls_data")
    return make_folder(root / "train", per_class=8), make_folder(root / "val", per_class=3, seed=1)


@pytest.fixture(scope="module")
def trained(folders, tmp_path_factory):
    """A run of the task (1 epoch of the tiny digits model on generated images)."""
    out = tmp_path_factory.mktemp("cls_run")
    result = run(tiny_config(*folders, out))
    return out, result


def records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "metrics.json").read_text().splitlines()]


def test_training_writes_checkpoints_logs_tensorboard_and_evaluates(trained, folders):
    out, result = trained
    names = {p.name for p in out.iterdir()}
    assert names >= {"model_final.pth", "last_checkpoint", "metrics.json", "config.yaml", "log.txt"}
    assert any(n.startswith("events.out.tfevents.") for n in names)  # TensorBoard
    assert result["num_images"] == 9 and result["skipped_images"] == 0
    assert 0 <= result["top1"] <= result["top5"] <= 100
    recs = records(out)
    train = [r for r in recs if "total_loss" in r]
    assert [r["iteration"] for r in train] == [0, 1, 2, 3]  # 24 images, batch 6, log every step
    assert all({"lr", "data_time", "skipped_images"} <= set(r) for r in train)
    ev = [r for r in recs if "top1" in r]
    assert len(ev) == 1 and ev[0]["top1"] == result["top1"]
    final = read_checkpoint(out / "model_final.pth")
    assert final["iteration"] == 3 and set(final) >= {"model", "trainer"} and "optimizer" in final["trainer"]
    hooks = final["trainer"]["hooks"]
    assert hooks["ClassificationState"]["classes"] == ["a", "b", "c"]
    assert {"RNGState", "RunState", "TimmScheduleHook"} <= set(hooks)
    log = (out / "log.txt").read_text()
    assert "lgvit_cls INFO: train ImageFolderDataset" in log and "AMP is off" in log  # the task's info lines
    # evaluating the saved weights gives what training reported
    again = run(tiny_config(*folders, out), eval_only=True)
    assert again["top1"] == result["top1"] and again["loss"] == pytest.approx(result["loss"], abs=1e-6)


def test_final_weights_as_safetensors_and_a_timm_model_directory(trained):
    """The trained weights for users: model_final.safetensors and a timm model directory that
    ``timm.create_model("local-dir:...", pretrained=True)`` rebuilds with the same outputs."""
    import timm

    from lgvit.checkpoint import read_state_dict

    out, _ = trained
    trained_sd = read_checkpoint(out / "model_final.pth")["model"]
    flat = read_state_dict(out / "model_final.safetensors")
    assert set(flat) == set(trained_sd)
    for k, v in trained_sd.items():
        torch.testing.assert_close(flat[k], v, rtol=0, atol=0)
    config = json.loads((out / "model" / "config.json").read_text())
    assert config["architecture"] == "regionvit_ti" and config["num_classes"] == 3
    assert config["label_names"] == ["a", "b", "c"]
    rebuilt = timm.create_model(f"local-dir:{out / 'model'}", pretrained=True).eval()
    for k, v in rebuilt.state_dict().items():
        torch.testing.assert_close(v, trained_sd[k], rtol=0, atol=0)
    fresh = timm.create_model(f"local-dir:{out / 'model'}").eval()  # timm: architecture only
    x = torch.randn(2, 3, 61, 45)
    with torch.no_grad():
        assert not torch.allclose(fresh(x), rebuilt(x))


def _full_state_config(train_root, val_root, out, epochs=2):
    """Every piece of state at once: EMA, Mixup/CutMix, instance repetition, RandAugment + random
    erasing, drop path, gradient clipping, gradient accumulation, warm-up, a data-loading worker, and a
    checkpoint every 2 iterations (mid-epoch)."""
    cfg = tiny_config(
        train_root,
        val_root,
        out,
        f"train.epochs={epochs}",
        "train.repeats=3",
        "train.num_workers=1",
        "train.batch_size=4",
        "train.accum_steps=2",
        "train.eval_period=1",
        "scheduler.warmup_epochs=1",
        "model.drop_path_rate=0.1",
        "dataloader.train.transform.auto_augment='rand-m9-mstd0.5-inc1'",
        "dataloader.train.transform.re_prob=0.25",
        "dataloader.train.transform.re_mode='pixel'",
    )
    cfg.train.checkpointer = dict(period=2)
    cfg.ema = L(ModelEmaV3)(decay=0.9)
    cfg.mixup = L(Mixup)(mixup_alpha=0.8, cutmix_alpha=1.0, label_smoothing=0.1)
    return cfg


def _assert_same_state(a: dict, b: dict) -> None:
    assert a["iteration"] == b["iteration"]
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
    ema_a, ema_b = a["trainer"]["hooks"]["EMAHook"]["model"], b["trainer"]["hooks"]["EMAHook"]["model"]
    for k in ema_a:
        assert torch.equal(ema_a[k], ema_b[k]), f"ema {k}"
    sa, sb = a["trainer"]["optimizer"]["state"], b["trainer"]["optimizer"]["state"]
    assert sa.keys() == sb.keys()
    for i in sa:
        for k in sa[i]:
            assert torch.equal(torch.as_tensor(sa[i][k]), torch.as_tensor(sb[i][k])), (i, k)
    assert a["trainer"]["hooks"]["TimmScheduleHook"] == b["trainer"]["hooks"]["TimmScheduleHook"]


@pytest.fixture(scope="module")
def full_run(folders, tmp_path_factory):
    full = tmp_path_factory.mktemp("cls_full")
    run(_full_state_config(*folders, full))
    return full


def _losses(out: Path, start: int) -> list[tuple[int, float]]:
    return [
        (r["iteration"], r["total_loss"])
        for r in records(out)
        if "total_loss" in r and r["iteration"] >= start
    ]


def test_resume_mid_epoch_matches_an_uninterrupted_run(folders, full_run, tmp_path):
    # 24 images per epoch (timm's RepeatAugSampler keeps the epoch length), micro-batch 4 x 2: 3 steps per
    # epoch, 6 in all; killed after step 4 (iteration 3), the first of epoch 1
    part = tmp_path / "part"
    part.mkdir()
    shutil.copy(full_run / "model_0000003.pth", part / "model_0000003.pth")
    (part / "last_checkpoint").write_text("model_0000003.pth")
    (part / "model_0000005.pth.tmp").write_bytes(b"")  # a save the kill interrupted
    run(_full_state_config(*folders, part), resume=True)
    assert not list(part.glob("*.tmp"))
    a, b = read_checkpoint(full_run / "model_final.pth"), read_checkpoint(part / "model_final.pth")
    assert a["iteration"] == 5
    _assert_same_state(a, b)
    # the logged losses of the resumed steps and the evaluations are the same numbers
    assert _losses(full_run, 4) == _losses(part, 4) and len(_losses(part, 4)) == 2
    ev_full = [r for r in records(full_run) if "top1" in r][-1]
    ev_part = [r for r in records(part) if "top1" in r][-1]
    assert ev_full == ev_part and "ema_top1" in ev_part
    # the run did change the weights (a resume that skipped training would also "match" nothing)
    first = read_checkpoint(full_run / "model_0000003.pth")["model"]
    assert any(not torch.equal(first[k], a["model"][k]) for k in first)


def test_damaged_latest_checkpoint_falls_back_to_the_newest_intact_one(folders, full_run, tmp_path, caplog):
    part = tmp_path / "part"
    part.mkdir()
    for name in ("model_0000001.pth", "model_0000003.pth"):
        shutil.copy(full_run / name, part / name)
    data = (part / "model_0000003.pth").read_bytes()
    (part / "model_0000003.pth").write_bytes(data[: len(data) // 2])  # truncated by a full disk
    (part / "last_checkpoint").write_text("model_0000003.pth")
    run(_full_state_config(*folders, part), resume=True)
    log = (part / "log.txt").read_text()
    assert "resuming from" in log and "model_0000003.pth: checkpoint" in log  # the damaged file named
    _assert_same_state(
        read_checkpoint(full_run / "model_final.pth"), read_checkpoint(part / "model_final.pth")
    )


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
    load_weights(other, str(out / "model_final.pth"))
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
        lgvit.create_model("regionvit_ti", num_classes=5, window=2, **TINY), out / "model_final.pth"
    )
    assert report.dropped == ["head.bias", "head.weight"] and report.missing == ["head.bias", "head.weight"]
    # another architecture is named key by key
    with pytest.raises(
        ValueError, match=r"patch_embed.proj.0.weight: checkpoint \(8, 3, 3, 3\) vs model \(16, 3, 3, 3\)"
    ):
        load_initial_weights(
            lgvit.create_model("regionvit_ti", num_classes=3, window=2), out / "model_final.pth"
        )


def test_config_class_count_must_match_the_folder(folders, tmp_path):
    cfg = tiny_config(*folders, tmp_path, "model.num_classes=10")
    with pytest.raises(ConfigError, match=r"num_classes=10 but the training folder .* holds 3 classes"):
        ClassificationTask().build_model(cfg)


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
    assert [r for r in records(tmp_path / "out") if "total_loss" in r][-1]["skipped_images"] == 1


def cli(*argv: str) -> int:
    import lgvit_engine

    task = ClassificationTask()
    return lgvit_engine.run(task, lgvit_engine.parse_args(list(argv), task=task))


def test_command_line(folders, tmp_path, capsys):
    out = subprocess.run(
        [sys.executable, str(TRAIN_NET), "--help"], capture_output=True, text=True, check=True
    )
    for flag in ("--config-file", "--resume", "--eval-only", "--weights", "--num-gpus", "--dist-url"):
        assert flag in out.stdout
    assert cli("--config-file", str(DIGITS_CONFIG), "train.epoch=3") == 2
    assert "Did you mean train.epochs" in capsys.readouterr().err
    assert cli("--config-file", str(REPO / "configs" / "video" / "regionvit_tiny_motion_synthetic.py")) == 2
    assert "is not a classification config" in capsys.readouterr().err
    assert cli("--config-file", str(DIGITS_CONFIG), f"dataloader.train.root='{tmp_path / 'none'}'") == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "export_digits" in err and "Traceback" not in err
    # evaluation of the weights of another class count, through the command line
    cfg = [f"dataloader.train.root='{folders[0]}'", f"dataloader.val.root='{folders[1]}'"]
    ck = tmp_path / "ten_classes.pth"
    torch.save(
        {"model": lgvit.create_model("regionvit_ti", num_classes=10, window=2, **TINY).state_dict()}, ck
    )
    args = ["--config-file", str(DIGITS_CONFIG), "--eval-only", "--weights", str(ck), "model.num_classes=3"]
    assert cli(*args, *cfg, f"train.output_dir='{tmp_path / 'o'}'") == 2
    assert "classifies 10 classes but the model has num_classes=3" in capsys.readouterr().err


@pytest.mark.parametrize(
    "override, message",
    [
        ("train.batch_size=0", "train.batch_size=0 is not allowed"),
        ("train.epochs=0", "train.epochs=0 is not allowed"),
        ("train.device='cuda'", "CUDA is not available"),
    ],
)
def test_impossible_settings_are_refused_before_anything_starts(override, message, folders, tmp_path, capsys):
    """Old code: a bare AssertionError (batch_size=0, epochs=0) or a traceback from deep inside."""
    if override.startswith("train.device") and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    cfg = [f"dataloader.train.root='{folders[0]}'", f"dataloader.val.root='{folders[1]}'"]
    assert cli("--config-file", str(DIGITS_CONFIG), *cfg, f"train.output_dir='{tmp_path}'", override) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not list(tmp_path.glob("*.pth"))
