"""The loggers of a run, owned by the runtime.

Detectron2's ``setup_logger`` is ``lru_cache``-d and only ever adds handlers: every in-process run (tests,
notebooks, demos) with another output folder adds a console handler bound to the ``sys.stdout`` of that
moment and a handler on a ``log.txt`` stream that stays open until the interpreter exits; a run with the
same folder gets no handler for the current ``sys.stdout`` at all. Once those streams are closed (pytest's
capture, a notebook cell), every later log line prints a ``--- Logging error`` traceback.

Here a run owns the handlers it installs (:func:`configure`: a console handler on the current ``sys.stdout``
on rank 0, one ``log.txt`` handler), next to those a user attached; :func:`release` (at the end of the run,
or when a run is set up again) removes and closes them and gives each logger back its level and
propagation.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from typing import Any

__all__ = ["configure", "handlers_installed", "owned", "release"]

PLAIN = logging.Formatter("[%(asctime)s] %(name)s %(levelname)s: %(message)s", datefmt="%m/%d %H:%M:%S")

# what each logger had before the run configured it: (logger, level, propagate)
_saved: list[tuple[logging.Logger, int, bool]] = []
_owned: list[logging.Handler] = []


def _console_formatter(name: str, abbrev: str) -> logging.Formatter:
    from detectron2.utils.logger import _ColorfulFormatter
    from termcolor import colored

    return _ColorfulFormatter(
        colored("[%(asctime)s %(name)s]: ", "green") + "%(message)s",
        datefmt="%m/%d %H:%M:%S",
        root_name=name,
        abbrev_name=abbrev,
    )


def configure(output_dir: str | None, rank: int, names: dict[str, str]) -> None:
    """Configure the loggers ``names`` (name -> abbreviation shown on the console) for a run: level DEBUG,
    no propagation, a console handler on the current ``sys.stdout`` (rank 0 only) and one handler on
    ``output_dir/log.txt`` (``log.txt.rank<N>`` for rank N > 0) shared by all of them; handlers attached
    by others stay. What a previous run installed is released first."""
    release()
    file_handler: logging.Handler | None = None
    if output_dir:
        filename = os.path.join(output_dir, "log.txt")
        if rank > 0:
            filename += f".rank{rank}"
        os.makedirs(os.path.dirname(filename) or ".", exist_ok=True)
        file_handler = logging.FileHandler(filename, mode="a", encoding="utf-8")
        file_handler.setLevel(logging.DEBUG)
        file_handler.setFormatter(PLAIN)
        _owned.append(file_handler)
    for name, abbrev in names.items():
        lg = logging.getLogger(name)
        _saved.append((lg, lg.level, lg.propagate))
        lg.setLevel(logging.DEBUG)
        lg.propagate = False
        if rank == 0:
            console = logging.StreamHandler(stream=sys.stdout)
            console.setLevel(logging.DEBUG)
            console.setFormatter(_console_formatter(name, abbrev))
            lg.addHandler(console)
            _owned.append(console)
        if file_handler is not None:
            lg.addHandler(file_handler)


def release() -> None:
    """Remove and close the handlers :func:`configure` installed (the ``log.txt`` stream is closed) and give
    each logger back its former level and propagation. Nothing happens when none are installed."""
    while _saved:
        lg, level, propagate = _saved.pop()
        for h in list(lg.handlers):
            if h in _owned:
                lg.removeHandler(h)
        lg.setLevel(level)
        lg.propagate = propagate
    while _owned:
        h = _owned.pop()
        h.close()


def handlers_installed() -> list[Any]:
    """The handlers a run has installed now (empty between runs)."""
    return list(_owned)


@contextlib.contextmanager
def owned(output_dir: str | None, rank: int, names: dict[str, str]) -> Iterator[None]:
    """:func:`configure` for the duration of a ``with`` block (demos that log without a full run)."""
    configure(output_dir, rank, names)
    try:
        yield
    finally:
        release()
