"""`import lgvit` must stay light: no detectron2, no video libraries, no training runtime or task package."""

import subprocess
import sys


def test_import_lgvit_pulls_no_detection_or_video_libs():
    code = (
        "import sys, lgvit, timm; "
        "bad = [m for m in ('detectron2', 'pytorchvideo', 'av', 'decord', 'fvcore', 'lgvit_engine', "
        "'lgvit_cls', 'lgvit_det', 'video', 'lgvit.classification', 'lgvit.config', 'lgvit.optim') "
        "if m in sys.modules]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"import lgvit imported {out.stdout.strip()}"


def test_models_registered_with_timm():
    import timm

    import lgvit

    for name in lgvit.list_models():
        assert name in timm.list_models(name), name
