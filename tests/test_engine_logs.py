"""The runtime owns the log handlers of a run (lgvit_engine.logs): setting up a run again, or ending one,
leaves no handler bound to an earlier run's console stream or log file (Detectron2's lru-cached
``setup_logger`` did: a later log line printed ``--- Logging error`` on a closed stream)."""

from __future__ import annotations

import argparse
import io
import logging
import sys

from lgvit_engine import logs
from lgvit_engine.train import setup
from omegaconf import OmegaConf


class _Task:
    name = "engine_logs_task"


def _setup(out, monkeypatch) -> io.StringIO:
    console = io.StringIO()
    monkeypatch.setattr(sys, "stdout", console)
    cfg = OmegaConf.create({"train": {"output_dir": str(out)}})
    setup(_Task(), cfg, argparse.Namespace(config_file="", num_threads=0))
    return console


def test_runs_set_up_again_log_to_the_current_stream_only(tmp_path, monkeypatch, capsys):
    names = ("lgvit_engine", "detectron2", "fvcore", _Task.name)
    before = {n: (list(logging.getLogger(n).handlers), logging.getLogger(n).propagate) for n in names}
    consoles = []
    for i, out in enumerate([tmp_path / "a", tmp_path / "b", tmp_path / "b"]):
        consoles.append(_setup(out, monkeypatch))
        if i:
            consoles[i - 1].close()  # the previous run's console is gone (pytest's capture of that test)
        logging.getLogger(_Task.name).info(f"run {i}")
        logging.getLogger("lgvit_engine").info(f"runtime {i}")
        assert consoles[i].getvalue().count(f"run {i}") == 1
        assert consoles[i].getvalue().count(f"runtime {i}") == 1
        assert len(logs.handlers_installed()) == len(names) + 1  # one console each + the shared log.txt
    logs.release()
    monkeypatch.undo()
    assert {n: (list(logging.getLogger(n).handlers), logging.getLogger(n).propagate) for n in names} == before
    assert logs.handlers_installed() == []
    logging.getLogger("lgvit_engine").warning("after the runs")  # must not reach a closed stream
    err = capsys.readouterr().err
    assert "Logging error" not in err and "Traceback" not in err
    assert "run 0" in (tmp_path / "a" / "log.txt").read_text()
    log_b = (tmp_path / "b" / "log.txt").read_text()
    assert (log_b.count("run 1"), log_b.count("run 2"), log_b.count("run 0")) == (1, 1, 0)
