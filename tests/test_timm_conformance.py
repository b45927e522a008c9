"""timm's own model tests (``tests/test_models.py`` of the pinned timm sdist) for every lgvit model.

The file is timm's, unchanged except for one thing timm asks of new model modules: lgvit's model modules
are added to its ``FEAT_INTER_FILTERS`` list (the models its ``forward_intermediates`` / pruning tests
select by module name). It runs in a subprocess (``pytest -p lgvit`` registers the models first),
selecting the tests of lgvit's models; every one must pass. ``tools/fetch_timm_tests.sh`` (run by the
README's test command) fetches the file; ``LGVIT_TIMM_TESTS`` may point at another copy.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import timm
from conftest import REPO

import lgvit

TIMM_TESTS = Path(os.environ.get("LGVIT_TIMM_TESTS", Path(sys.prefix) / "timm-tests" / timm.__version__))
# the tests timm parametrises over every model (the rest name fixed timm models)
PER_MODEL = (
    "test_model_forward",
    "test_model_backward",
    "test_model_default_cfgs",
    "test_model_forward_torchscript",
    "test_model_forward_features",
    "test_model_forward_intermediates_features",
    "test_model_forward_intermediates",
    "test_prune_intermediate_layers_contract",
    "test_model_forward_fx",
    "test_model_backward_fx",
    "test_model_forward_fx_torchscript",
)


def lgvit_model_modules() -> list[str]:
    """timm's module names of lgvit's models (what timm's module filters match)."""
    from timm.models._registry import _model_to_module

    return sorted({_model_to_module[name] for name in lgvit.list_models()})


@pytest.mark.slow
def test_timm_model_tests_pass_for_every_lgvit_model(tmp_path):
    source = TIMM_TESTS / "test_models.py"
    if not source.is_file():
        pytest.fail(f"timm's tests not found at {TIMM_TESTS}: run bash tools/fetch_timm_tests.sh")
    text = source.read_text()
    marker = "FEAT_INTER_FILTERS = ["
    assert text.count(marker) == 1, "timm's test file changed: FEAT_INTER_FILTERS not found once"
    modules = ", ".join(repr(m) for m in lgvit_model_modules())
    (tmp_path / "test_models.py").write_text(text.replace(marker, f"{marker}{modules}, "))
    (tmp_path / "conftest.py").write_text((TIMM_TESTS / "conftest.py").read_text())

    names = lgvit.list_models()
    select = " or ".join(names)
    cmd = [sys.executable, "-m", "pytest", "-p", "lgvit", "-p", "no:cacheprovider", "-q", "-rA"]
    cmd += ["-W", "ignore", "-k", select, str(tmp_path / "test_models.py")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    if importlib.util.find_spec("xdist") is not None:
        # TorchScript/FX compilation is single-threaded Python: two one-thread workers use both cores
        cmd += ["-n", "2"]
        env["OMP_NUM_THREADS"] = "1"
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True)
    out = proc.stdout + proc.stderr

    results: dict[str, Counter] = {n: Counter() for n in names}
    pattern = r"^(PASSED|FAILED|ERROR|SKIPPED)\S* \S*::(\w+)\[([^\]]+)\]"
    for status, test, params in re.findall(pattern, out, re.M):
        # ids look like "regionvit_s-1" or, for timm's tests over tagged names, "regionvit_s.untrained-1"
        model = next((p.split(".")[0] for p in params.split("-") if p.split(".")[0] in results), None)
        if model is not None:
            results[model][status] += 1
            results[model][test] += 1
    print("\ntimm tests/test_models.py per lgvit model (passed / failed / errors / skipped):")
    for n, c in results.items():
        print(f"  {n:<24} {c['PASSED']:>3} / {c['FAILED']:>2} / {c['ERROR']:>2} / {c['SKIPPED']:>2}")
    failed = {n: c["FAILED"] + c["ERROR"] for n, c in results.items() if c["FAILED"] + c["ERROR"]}
    assert proc.returncode == 0 and not failed, f"timm's model tests failed: {failed}\n{out[-6000:]}"
    for n, c in results.items():
        missing = [t for t in PER_MODEL if not c[t]]
        assert not missing and c["PASSED"] >= len(PER_MODEL), f"{n}: timm ran no {missing}"
