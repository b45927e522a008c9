"""`import lgvit` must stay light: no detectron2, no video libraries, no training runtime or task package."""

import subprocess
import sys


def test_import_lgvit_pulls_no_detection_or_video_libs():
    code = (
        "import sys, lgvit, timm; "
        "bad = [m for m in ('detectron2', 'pytorchvideo', 'av', 'decord', 'fvcore', 'lgvit_engine', "
        "'lgvit_cls', 'lgvit_det', 'video', 'lgvit.classification', 'lgvit.optim') "
        "if m in sys.modules]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"import lgvit imported {out.stdout.strip()}"


# What `import lgvit` may load: models, layers, checkpoints, registry, FLOP counting.
CORE = ("lgvit", "lgvit._registry", "lgvit.checkpoint", "lgvit.flops", "lgvit.compat")
CORE_PACKAGES = ("lgvit.models", "lgvit.layers")


def test_import_lgvit_loads_only_the_core():
    """Neither the benchmarking helpers (procfs, subprocess workers) nor the paper tables are part of (or
    loaded by) the package: they live with the tools that use them, in tools/lgvit_tools/."""
    code = (
        "import sys, pathlib, lgvit; "
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in ('lgvit', 'lgvit_tools')))); "
        "print(' '.join(f for p in lgvit.__path__ for f in ('benchmarking.py', 'reference.py', 'config.py', "
        "'distributed.py', 'metric_writer.py', 'optim.py') "
        "if (pathlib.Path(p) / f).exists()))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded, present = (out.stdout.strip().splitlines() + [""])[:2]
    extra = [m for m in loaded.split() if m not in CORE and not m.startswith(CORE_PACKAGES)]
    assert extra == [], f"import lgvit loaded non-core modules {extra}"
    assert present == "", f"lgvit still has {present}: they belong to tools/lgvit_tools/ or lgvit_engine"
    assert {"lgvit.models", "lgvit.layers", "lgvit.checkpoint"} <= set(loaded.split())


def test_models_registered_with_timm():
    import timm

    import lgvit

    for name in lgvit.list_models():
        assert name in timm.list_models(name), name
