"""`import lgvit` must stay light: models, layers, checkpoints, the registry and FLOP counting only -- no
detectron2, no video libraries, no benchmarking helpers (procfs, subprocess workers) or paper tables, which
live with the tools that use them (tools/lgvit_tools/)."""

import subprocess
import sys

# What `import lgvit` may load: the core. lgvit.optim is the weight-decay groups helper of the trainers.
CORE = ("lgvit", "lgvit._registry", "lgvit.checkpoint", "lgvit.flops", "lgvit.optim", "lgvit.compat")
CORE_PACKAGES = ("lgvit.models", "lgvit.layers")


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_import_lgvit_pulls_no_detection_or_video_libs():
    code = (
        "import sys, lgvit, timm; "
        "bad = [m for m in ('detectron2', 'pytorchvideo', 'av', 'decord', 'fvcore') if m in sys.modules]; "
        "print(','.join(bad))"
    )
    bad = _run(code)
    assert bad == "", f"import lgvit imported {bad}"


def test_import_lgvit_loads_only_the_core():
    """Neither the benchmarking helpers nor the paper tables are part of (or loaded by) the package."""
    code = (
        "import sys, pathlib, lgvit; "
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in ('lgvit', 'lgvit_tools')))); "
        "print(' '.join(f for p in lgvit.__path__ for f in ('benchmarking.py', 'reference.py') "
        "if (pathlib.Path(p) / f).exists()))"
    )
    loaded, present = (_run(code).splitlines() + [""])[:2]
    extra = [m for m in loaded.split() if m not in CORE and not m.startswith(CORE_PACKAGES)]
    assert extra == [], f"import lgvit loaded non-core modules {extra}"
    assert present == "", f"lgvit still has {present}: they belong to tools/lgvit_tools/"
    assert {"lgvit.models", "lgvit.layers", "lgvit.checkpoint"} <= set(loaded.split())


def test_models_registered_with_timm():
    import timm

    import lgvit

    for name in lgvit.list_models():
        assert name in timm.list_models(name), name
