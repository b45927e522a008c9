"""Shared pytest fixtures and paths."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "tools") not in sys.path:
    sys.path.append(str(REPO / "tools"))  # lgvit_tools: the helpers of the tools (benchmarks, demos, tables)

if os.environ.get("PYTEST_XDIST_WORKER"):
    # tools/test.sh runs two workers on two cores: one thread each (and in the processes tests start)
    torch.set_num_threads(1)
    os.environ["OMP_NUM_THREADS"] = "1"


def pytest_collection_modifyitems(session, config, items):
    """Modules with slow end-to-end tests first (stable otherwise): with the test command's two workers
    taking whole modules (``--dist loadfile``), the long ones start early and the short ones fill in."""
    slow_modules = {item.module.__name__ for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.module.__name__ not in slow_modules)


SHARED = Path(os.environ.get("LGVIT_SHARED", REPO.parent / "shared"))
OFFICIAL_DIR = SHARED / "testdata" / "regionvit_official"


@pytest.fixture(autouse=True)
def _seed_and_global_state():
    """Seeds every test, and fails a test that leaves autograd switched off for the tests after it
    (an in-process tool call with torch.set_grad_enabled(False) did once)."""
    torch.manual_seed(0)
    yield
    if not torch.is_grad_enabled():
        torch.set_grad_enabled(True)
        pytest.fail("this test left autograd disabled (torch.set_grad_enabled(False) without restoring it)")


@pytest.fixture
def no_log_handler_outlives_its_run():
    """Every in-process run removes the console/log.txt handlers it installed (lgvit_engine.logs) and
    leaves the loggers as it found them: a later test's capture never finds one bound to a closed stream.
    A module of in-process runs uses it on every test:
    ``pytestmark = pytest.mark.usefixtures("no_log_handler_outlives_its_run")``."""
    from lgvit_engine import logs  # imported here: the lgvit tests run without detectron2

    names = ("video", "lgvit_engine", "detectron2", "fvcore")
    before = {n: list(logging.getLogger(n).handlers) for n in names}
    yield
    assert logs.handlers_installed() == []
    assert {n: list(logging.getLogger(n).handlers) for n in names} == before


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="module")
def one_thread():
    """torch on one thread for a module's tests (the second core runs their background process)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
