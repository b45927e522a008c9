"""Shared pytest fixtures and paths."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
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
