"""What the Detectron2 end-to-end tests share: the entry points, a one-thread environment for the
processes they start, training runs in a background process (on the second core, while the test process
trains on the first), and the evaluation records Detectron2 writes to ``metrics.json``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
TRAIN_NET = REPO / "projects" / "LGViTDet" / "train_net.py"
STOCK = Path(__import__("detectron2").__file__).parents[1] / "tools" / "lazyconfig_train_net.py"
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}


@contextmanager
def background_training(root: Path, runs: Sequence[tuple[str, Path]]) -> Iterator[subprocess.Popen]:
    """Trains each ``(config, output_dir)`` with ``train_net.py --num-threads 1``, one after the other, in
    one background process logging to ``root/log.txt``; the process is killed on leaving the context."""
    cmds = [
        f"{PY} {TRAIN_NET} --num-threads 1 --config-file {cfg} train.output_dir={out}" for cfg, out in runs
    ]
    with open(root / "log.txt", "w") as log:
        cmd = ["bash", "-c", " && ".join(cmds)]
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=ENV)
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()


def wait_for(proc: subprocess.Popen, root: Path, timeout: float) -> None:
    """Waits for a :func:`background_training` process; its log's tail is the failure message."""
    rc = proc.wait(timeout=timeout)
    assert rc == 0, (root / "log.txt").read_text()[-5000:]


def last_record_with(out_dir: Path, suffix: str) -> dict:
    """The last ``metrics.json`` record with a key ending in ``suffix`` (e.g. ``"/AP"``, ``"/mIoU"``)."""
    lines = [x for x in (out_dir / "metrics.json").read_text().splitlines() if x.strip()]
    return next(r for r in map(json.loads, reversed(lines)) if any(k.endswith(suffix) for k in r))
