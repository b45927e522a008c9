"""The training runtime (lgvit_engine) through the detection entry point: the silent wrong runs, bare
tracebacks and log defects it must not let through, each checked before anything trains; and (slow) two
iterations of detection and segmentation writing TensorBoard + JSON metrics, then --resume continuing at
the iteration and data position where they stopped."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from detectron2.config import instantiate
from lgvit_det.engine import TASK, load_config, parse_args, run
from lgvit_engine import ConfigError
from lgvit_engine.weights import read_weights

import lgvit
from lgvit.checkpoint import CheckpointError

REPO = Path(__file__).resolve().parents[1]
SHAPES = str(REPO / "configs" / "shapes" / "mask_rcnn_regionvit_tiny_shapes.py")
SEG = str(REPO / "configs" / "segmentation" / "semantic_fpn_regionvit_tiny_shapes.py")
PREFIX = "backbone.bottom_up.model."


def cli(*argv: str, config: str = SHAPES) -> int:
    return run(parse_args(["--config-file", config, *argv]))


@pytest.fixture(scope="module")
def detector():
    return instantiate(load_config(SHAPES, ["train.device='cpu'"]).model)


def classification_weights(detector) -> dict[str, torch.Tensor]:
    """Classification weights of the detector's backbone architecture (what the digits trainer writes)."""
    arch = load_config(SHAPES).model.backbone.bottom_up.model
    kw = {
        k: tuple(v) if isinstance(v, list) else v
        for k, v in arch.items()
        if k not in ("_target_", "name", "num_classes")
    }
    torch.manual_seed(3)
    return lgvit.create_model(arch.name, num_classes=10, **kw).state_dict()


@pytest.mark.parametrize("suffix", [".ckpt", ".safetensors", ".weights"])
def test_init_checkpoint_of_any_name_or_format_is_loaded_and_checked(detector, tmp_path, suffix, caplog):
    """Old code: a classification checkpoint whose name did not end in .pth/.pt was silently ignored (the
    backbone stayed random, exit 0)."""
    sd = classification_weights(detector)
    path = tmp_path / f"digits{suffix}"
    if suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in sd.items()}, str(path))
    else:
        torch.save({"model": sd}, path)
    model = instantiate(load_config(SHAPES).model)
    with caplog.at_level("INFO", logger="lgvit_det"):
        TASK.load_weights(model, str(path))
    assert "classification weights" in caplog.text
    own = model.state_dict()
    key = "stages.0.blocks.0.attn.qkv.weight"
    assert torch.equal(own[PREFIX + key], sd[key])


def test_weights_of_another_width_or_a_directory_are_refused(detector, tmp_path):
    wide = lgvit.create_model("regionvit_ti", num_classes=10).state_dict()  # full-width RegionViT-Ti
    path = tmp_path / "other_width.safetensors"
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in wide.items()}, str(path))
    with pytest.raises(CheckpointError, match="checkpoint .* vs model|of another shape"):
        TASK.load_weights(instantiate(load_config(SHAPES).model), str(path))
    with pytest.raises(CheckpointError, match="is a directory"):
        read_weights(tmp_path)


def test_init_checkpoint_directory_exits_2_with_a_message(tmp_path, capsys):
    """Old code: a bare traceback."""
    assert cli(f"train.init_checkpoint='{tmp_path}'", f"train.output_dir='{tmp_path / 'o'}'") == 2
    err = capsys.readouterr().err
    assert "is a directory" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "override, message",
    [
        ("train.max_iter=-5", "train.max_iter=-5 is not allowed"),  # old: trained nothing, printed AP, exit 0
        ("train.max_iter=0", "train.max_iter=0 is not allowed"),
        ("dataloader.train.total_batch_size=0", "total_batch_size=0 is not allowed"),
        ("train.device='cuda'", "CUDA is not available"),  # old: a traceback from deep inside
    ],
)
def test_impossible_settings_exit_2_before_anything_starts(override, message, tmp_path, capsys):
    if "cuda" in override and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert cli(override, f"train.output_dir='{tmp_path}'") == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not tmp_path.exists() or not list(tmp_path.iterdir())


def test_config_syntax_error_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.py"
    bad.write_text("from lgvit_engine.config import get_config\nmodel = (\n")
    assert cli(config=str(bad)) == 2
    err = capsys.readouterr().err
    assert "syntax error" in err and "bad.py" in err and "Traceback" not in err


def test_tuple_override_is_a_python_literal():
    """Old code: hydra's parser crashed on ``model.dims=(32,64,128,256)`` although --help says literals."""
    cfg = load_config(SHAPES, ["model.backbone.bottom_up.model.dims=(16,32,64,128)"])
    assert list(cfg.model.backbone.bottom_up.model.dims) == [16, 32, 64, 128]
    with pytest.raises(ConfigError, match="Did you mean train.max_iter"):
        load_config(SHAPES, ["train.max_itr=(1,2)"])


def train_net(config: str, out: Path, *opts: str) -> subprocess.CompletedProcess:
    """``train_net.py`` for one iteration in a fresh process (its console output captured)."""
    cmd = [
        sys.executable, str(REPO / "projects" / "LGViTDet" / "train_net.py"), "--config-file", config,
        "--num-threads", "1", "train.max_iter=1", "train.eval_period=0", "dataloader.train.num_workers=0",
        f"train.output_dir={out}", *opts,
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_user_config_outside_configs_registers_a_dataset(tmp_path):
    """A config in any folder imports a shipped one with get_config and registers its own dataset; the
    entry point loads it once per process (old code: loaded twice, 'already registered')."""
    user = tmp_path / "my_config.py"
    user.write_text(
        "from detectron2.data import DatasetCatalog, MetadataCatalog\n"
        "from lgvit_engine.config import get_config\n"
        "_base = get_config('shapes/mask_rcnn_regionvit_tiny_shapes.py')\n"
        "model, dataloader, optimizer, lr_multiplier, train = (\n"
        "    _base[k] for k in ('model', 'dataloader', 'optimizer', 'lr_multiplier', 'train'))\n"
        "DatasetCatalog.register('my_shapes', lambda: DatasetCatalog.get('shapes_train'))\n"
        "MetadataCatalog.get('my_shapes').set(thing_classes=MetadataCatalog.get('shapes_train').thing_classes)\n"
        "dataloader.train.dataset.names = 'my_shapes'\n"
    )
    train_net(str(user), tmp_path / "out")
    log = (tmp_path / "out" / "log.txt").read_text()
    assert "names: my_shapes}" in (tmp_path / "out" / "config.yaml").read_text()
    assert "Starting training" in log
    assert (tmp_path / "out" / "model_final.pth").exists()


def test_info_lines_of_the_task_appear(tmp_path):
    """Old code: lgvit_det's info messages ("AMP is off", the weights report) never appeared."""
    proc = train_net(SHAPES, tmp_path, "train.amp.enabled=True")
    log = (tmp_path / "log.txt").read_text()
    assert "lgvit_engine INFO: Model:" in log
    if not torch.cuda.is_available():
        assert "AMP is off" in proc.stdout + proc.stderr
        assert "lgvit_det INFO: AMP is off" in log


def test_visualize_refuses_a_checkpoint_that_does_not_fit(detector, tmp_path, capsys):
    """Old code: any checkpoint loaded without a check, and a random detector's predictions drawn."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("vis", REPO / "tools" / "visualize_detections.py")
    vis = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(vis)
    path = tmp_path / "backbone_only.pth"
    torch.save({"model": classification_weights(detector)}, path)
    rc = vis.main(["--config-file", SHAPES, "--weights", str(path), "--output", str(tmp_path / "vis")])
    assert rc == 2
    err = capsys.readouterr().err
    assert "random initialisation" in err and "Traceback" not in err
    assert not (tmp_path / "vis").exists()


def test_unreadable_image_is_named_once():
    from lgvit_det.checks import UnreadableImageError
    from lgvit_engine.cli import user_message

    msg = "cannot read image /data/x.jpg (OSError: truncated)"
    worker = UnreadableImageError(
        f"Caught UnreadableImageError in DataLoader worker process 0.\nOriginal Traceback (most recent call "
        f'last):\n  File "x.py", line 1, in f\nlgvit_det.checks.UnreadableImageError: {msg}\n'
    )
    assert user_message(worker) == msg


# ------------------------------------------------------------------------------------------ slow


def _two_iterations_then_resume(config: str, out: Path, *opts: str) -> None:
    base = [
        "--num-threads", "1", f"train.output_dir={out}", "train.eval_period=0", "train.log_period=1",
        "train.checkpointer.period=1", "dataloader.train.num_workers=0", *opts,
    ]  # fmt: skip
    assert cli(*base, "train.max_iter=2", config=config) == 0
    events = list(out.glob("events.out.tfevents.*"))
    assert events and events[0].stat().st_size > 0
    recs = [json.loads(x) for x in (out / "metrics.json").read_text().splitlines()]
    assert [r["iteration"] for r in recs if "total_loss" in r] == [0, 1]
    # a damaged latest checkpoint: --resume falls back to the newest intact one and continues from it
    final = out / "model_final.pth"
    final.write_bytes(final.read_bytes()[:1000])
    shutil.copy(out / "model_0000000.pth", out / "keep.pth")
    (out / "model_0000001.pth").write_bytes(b"")
    (out / "last_checkpoint").write_text("model_0000001.pth")
    assert cli("--resume", *base, "train.max_iter=3", config=config) == 0
    log = (out / "log.txt").read_text()
    assert "Starting training from iteration 1" in log and "model_0000001.pth: checkpoint" in log
    assert torch.load(final, weights_only=True)["iteration"] == 2


@pytest.mark.slow
def test_detection_two_iterations_write_metrics_and_resume(tmp_path, one_thread):
    _two_iterations_then_resume(SHAPES, tmp_path / "det")


@pytest.mark.slow
def test_segmentation_two_iterations_write_metrics_and_resume(tmp_path, one_thread):
    _two_iterations_then_resume(SEG, tmp_path / "seg")


@pytest.mark.parametrize("workers", [0, 2])
def test_detection_data_resume_at_the_stopped_position(workers):
    """A loader started at iteration k yields what an uninterrupted run's loader yields from k on (the
    sampler is seeded by the run's data seed and advanced past the images already seen; none is loaded
    to skip it; Detectron2's worker interleaving and aspect-ratio buckets replayed): no image is seen twice
    or skipped after --resume (old code: a fresh random order)."""
    cfg = load_config(SHAPES, [f"dataloader.train.num_workers={workers}"])

    def ids(loader, n):
        it = iter(loader)
        return [[d["image_id"] for d in next(it)] for _ in range(n)]

    full = ids(TASK.build_train_loader(cfg, 0, seed=7), 8)
    for start in (1, 3, 5):
        assert ids(TASK.build_train_loader(cfg, start, seed=7), 8 - start) == full[start:], start
    assert ids(TASK.build_train_loader(cfg, 0, seed=8), 8) != full  # the order is the seed's
