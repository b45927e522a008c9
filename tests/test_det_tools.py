"""The small pieces around training: AMP policy, argument parsing, visualisation and the dataset CLI."""

from __future__ import annotations

import importlib.util
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from detectron2.config import instantiate
from detectron2.data import MetadataCatalog
from lgvit_det.datasets import register_shapes
from lgvit_det.engine import load_config, parse_args, use_amp
from lgvit_det.visualize import LazyPredictor, draw_predictions, visualize_files
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
SHAPES = str(REPO / "configs" / "shapes" / "mask_rcnn_regionvit_tiny_shapes.py")


def tool(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_amp_only_on_cuda(caplog):
    cfg = load_config(str(REPO / "configs" / "COCO" / "mask_rcnn_regionvit_s_1x.py"))
    assert cfg.train.amp.enabled  # the paper configs ask for it
    cfg.train.device = "cpu"
    with caplog.at_level(logging.INFO, logger="lgvit_det"):
        assert use_amp(cfg) is False
    assert "AMP is off" in caplog.text
    cfg.train.device = "cuda"
    assert use_amp(cfg) is True
    cfg.train.amp.enabled = False
    assert use_amp(cfg) is False


def test_train_net_arguments():
    argv = ["--config-file", SHAPES, "--eval-only", "--resume", "--num-gpus", "2", "--num-threads", "1"]
    argv += ["--num-machines", "1", "--machine-rank", "0", "--dist-url", "auto", "train.max_iter=3"]
    args = parse_args(argv)
    assert (args.eval_only, args.resume, args.num_gpus, args.num_threads) == (True, True, 2, 1)
    assert (args.num_machines, args.machine_rank, args.dist_url) == (1, 0, "auto")
    assert args.opts == ["train.max_iter=3"]
    assert load_config(SHAPES, args.opts).train.max_iter == 3


def test_visualize_files_writes_pngs_and_rejects_bad_input(tmp_path):
    register_shapes(tmp_path / "data")
    try:
        cfg = load_config(SHAPES)
        torch.manual_seed(0)
        model = instantiate(cfg.model)
        predictor = LazyPredictor(model, 128, 192, "RGB")
        gray = tmp_path / "gray.png"
        Image.fromarray((np.random.rand(50, 70) * 255).astype(np.uint8)).save(gray)  # grayscale, tiny
        (written,) = visualize_files(predictor, [gray], tmp_path / "vis", "shapes_val", score_thresh=0.0)
        drawing = np.asarray(Image.open(written))
        assert drawing.shape[2] == 3 and max(drawing.shape[:2]) >= 480  # upscaled to stay readable
        with pytest.raises(FileNotFoundError, match="neither an image file nor a directory"):
            visualize_files(predictor, [tmp_path / "missing.png"], tmp_path / "vis", "shapes_val")
        with pytest.raises(ValueError, match="expected an RGB image"):
            predictor(np.zeros((20, 20), dtype=np.uint8))
        meta = MetadataCatalog.get("shapes_val")
        empty = draw_predictions(
            np.zeros((40, 30, 3), np.uint8), predictor(np.zeros((40, 30, 3), np.uint8)), meta, 1.1
        )
        assert empty.shape[2] == 3
    finally:
        register_shapes()


def test_make_shapes_dataset_cli(tmp_path, capsys):
    assert tool("make_shapes_dataset").main(["--out", str(tmp_path), "--splits", "shapes_kp_val"]) == 0
    assert "shapes_kp_val: 16 images" in capsys.readouterr().out
    assert (tmp_path / "shapes_kp_val.json").exists() and len(
        list((tmp_path / "shapes_kp_val").iterdir())
    ) == 16


def test_visualize_tool_reports_missing_weights(tmp_path, capsys):
    cli = tool("visualize_detections")
    assert (
        cli.main(
            ["--config-file", SHAPES, "--weights", str(tmp_path / "none.pth"), "--output", str(tmp_path)]
        )
        == 2
    )
    assert "does not exist" in capsys.readouterr().err


TRAIN_NET = REPO / "projects" / "LGViTDet" / "train_net.py"


def train_net(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(TRAIN_NET), *argv], capture_output=True, text=True, timeout=300, check=False
    )


def test_train_net_refuses_an_unknown_override_before_training(tmp_path):
    """The project's one config loader checks overrides before anything starts: a typo exits non-zero
    naming the key that exists, and nothing is built or written."""
    out = tmp_path / "out"
    res = train_net("--config-file", SHAPES, "train.max_itr=5", f"train.output_dir={out}")
    assert res.returncode == 2, res.stderr[-2000:]
    assert "train.max_iter" in res.stderr and "max_itr" in res.stderr
    assert not out.exists()


def test_train_net_says_a_video_config_is_one(tmp_path):
    """A config of another kind (here a video one) is refused with the entry point it belongs to."""
    video = tmp_path / "video_like.py"
    video.write_text(
        "model = dict(num_classes=4, num_frames=8)\noptimizer = dict(lr=1.0)\ndataloader = dict(train=None)\n"
        "train = dict(max_epochs=1)\nmixup = dict(mixup_alpha=0.8)\n"
    )
    res = train_net("--config-file", str(video))
    assert res.returncode == 2, res.stderr[-2000:]
    assert "not a detection config" in res.stderr and "train.max_iter" in res.stderr
    assert "video" in res.stderr and "video.train" in res.stderr


def test_train_net_refuses_the_real_video_configs(tmp_path):
    from detectron2.config import LazyConfig

    path = REPO / "configs" / "video" / "regionvit_s_k400.py"
    try:
        LazyConfig.load(str(path))
    except ImportError as e:  # the video package is not importable in this checkout
        pytest.skip(f"{path.name} does not load here: {e}")
    res = train_net("--config-file", str(path))
    assert res.returncode == 2, res.stderr[-2000:]
    assert "not a detection config" in res.stderr and "video" in res.stderr
