"""Issue 12 through the detection entry point (lgvit_det.engine.run = train_net.py): eval-only refuses
weights that leave heads at initialisation (item 4), class-count mismatches stop before training (item 3),
--resume with no intact checkpoint names the damaged files (item 7). All stop before any iteration."""

from __future__ import annotations

from pathlib import Path

import torch
from lgvit_det.engine import build_model, load_config, parse_args, run

REPO = Path(__file__).resolve().parents[1]
MASK_CFG = str(REPO / "configs" / "shapes" / "mask_rcnn_regionvit_tiny_shapes.py")


def cli(*argv: str) -> int:
    return run(parse_args(["--config-file", MASK_CFG, *argv]))


def test_item4_eval_only_refuses_weights_that_leave_heads_random(tmp_path, capsys):
    model = build_model(load_config(MASK_CFG, ["train.device='cpu'"]))
    sd = {k: v for k, v in model.state_dict().items() if not k.startswith("roi_heads.mask_head.")}
    path = tmp_path / "keypoint_like.pth"
    torch.save({"model": sd}, path)
    assert cli("--eval-only", f"train.init_checkpoint='{path}'", f"train.output_dir='{tmp_path}'") == 2
    err = capsys.readouterr().err
    assert "random initialisation" in err and "roi_heads.mask_head" in err and "--eval-allow-missing" in err
    assert "Traceback" not in err


def test_item3_num_classes_smaller_than_the_dataset_stops_before_training(tmp_path, capsys):
    args = (
        "model.roi_heads.num_classes=2",
        f"train.output_dir='{tmp_path}'",
        "dataloader.train.num_workers=0",
    )
    assert cli(*args) == 2
    err = capsys.readouterr().err
    assert "num_classes=2 but dataset 'shapes_train' has 3 classes" in err and "num_classes=3" in err
    assert not list(tmp_path.glob("model_*.pth"))


def test_item7_resume_without_an_intact_checkpoint_names_the_damaged_files(tmp_path, capsys):
    (tmp_path / "model_0000004.pth").write_bytes(b"")
    (tmp_path / "model_0000009.pth").write_bytes(b"PK\x03\x04 cut short")
    (tmp_path / "last_checkpoint").write_text("model_0000009.pth")
    assert cli("--resume", f"train.output_dir='{tmp_path}'", "dataloader.train.num_workers=0") == 2
    err = capsys.readouterr().err
    assert "no intact checkpoint" in err and "model_0000009.pth: checkpoint" in err
    assert "truncated or damaged" in err
    assert "model_0000004.pth: checkpoint" in err and "is empty" in err
