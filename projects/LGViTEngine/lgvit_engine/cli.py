"""One command line for every entry point, and :func:`run`: check the config once, launch, and turn the
errors a user can foresee into one ``error: ...`` line with exit status 2."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from lgvit.checkpoint import CheckpointError

from .config import ConfigError, check_settings, load_config
from .task import Task

__all__ = ["USER_ERRORS", "load_task_config", "parse_args", "run", "user_message"]

# Errors that describe a user's input (config, data, device, weights): a message, never a traceback.
USER_ERRORS: tuple[type[BaseException], ...] = (ConfigError, CheckpointError, FileNotFoundError)


def build_parser(task: Task | None = None, epilog: str | None = None) -> argparse.ArgumentParser:
    """Detectron2's ``default_argument_parser`` (``--config-file``, ``--resume``, ``--eval-only``,
    ``--num-gpus``, ``--num-machines``, ``--machine-rank``, ``--dist-url``, ``key=value`` overrides) +
    ``--num-threads`` and ``--weights``, and the task's own flags."""
    from detectron2.engine import default_argument_parser

    parser = default_argument_parser(epilog=epilog)
    parser.add_argument(
        "--num-threads", type=int, default=0, help="torch intra-op threads per process (0: torch's default)"
    )
    parser.add_argument(
        "--weights",
        metavar="FILE",
        default=None,
        help="weights to start training from (replaces train.init_checkpoint) or, with --eval-only, to "
        "evaluate; .pth/.pt/.ckpt/.safetensors, checked against the model",
    )
    if task is not None:
        task.add_arguments(parser)
    return parser


def parse_args(argv: list[str] | None = None, epilog: str | None = None, task: Task | None = None):
    """Parses ``argv`` (default ``sys.argv[1:]``) with :func:`build_parser`."""
    return build_parser(task, epilog).parse_args(argv)


def load_task_config(task: Task, args: argparse.Namespace) -> Any:
    """``args.config_file`` with ``args.opts``, checked: the task's required keys, override keys and types,
    :func:`~lgvit_engine.config.check_settings` and the task's :meth:`~lgvit_engine.Task.check_config`."""
    cfg = load_config(args.config_file, args.opts, required=task.required_keys, kind=task.kind)
    check_settings(cfg)
    task.check_config(cfg, args)
    return cfg


def user_message(e: BaseException) -> str:
    """The message of a user error, once: an error re-raised from a DataLoader worker carries the worker's
    traceback with the message (``Caught X in DataLoader worker process 0. Original Traceback ...``);
    only the original message is kept."""
    msg = str(e)
    if "Original Traceback" in msg:
        name = type(e).__name__
        tail = msg.rstrip().splitlines()
        for i in range(len(tail) - 1, -1, -1):
            line = tail[i]
            if line.startswith(f"{name}: ") or line.split(":")[0].endswith(name):
                return "\n".join([line.split(": ", 1)[1], *tail[i + 1 :]]).strip()
        return tail[-1]
    return msg.strip("'\"") if isinstance(e, KeyError) else msg


def _user_errors(task: Task) -> tuple[type[BaseException], ...]:
    return USER_ERRORS + tuple(getattr(task, "user_errors", ()))


def _torchrun() -> bool:
    """Started by ``torchrun`` (its environment: RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "LOCAL_RANK" in os.environ


def _join_torchrun(cfg: Any) -> None:
    """Joins torchrun's process group and creates Detectron2's per-machine group (what ``launch`` does
    for the processes it starts itself)."""
    import torch
    import torch.distributed as dist
    from detectron2.utils import comm

    if dist.is_initialized():
        return
    use_cuda = str(cfg.train.get("device", "auto")) != "cpu" and torch.cuda.is_available()
    if use_cuda:
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
    dist.init_process_group("nccl" if use_cuda else "gloo")
    comm.create_local_process_group(int(os.environ.get("LOCAL_WORLD_SIZE", os.environ["WORLD_SIZE"])))


def _worker(task: Task, args: argparse.Namespace) -> Any:
    """:func:`lgvit_engine.train.main` in a process started by ``launch``: the config is loaded in this
    process (datasets a config registers are registered once here), user errors exit with status 2."""
    from .train import main

    try:
        return main(task, args)
    except _user_errors(task) as e:
        print(f"error: {user_message(e)}", file=sys.stderr)
        sys.exit(2)


def run(task: Task, args: argparse.Namespace) -> int:
    """What every ``train_net.py`` does: loads and checks the config once, before any process starts or
    anything is built, then runs :func:`lgvit_engine.train.main` in every process (Detectron2's
    ``launch``; under ``torchrun`` in the processes torchrun started). Returns the exit status: 0, or 2
    with one ``error: ...`` line for a user error (:data:`USER_ERRORS` and the task's ``user_errors``).

    With one process the checked config is reused (loaded once: a config may register its datasets)."""
    from detectron2.engine import launch
    from torch.multiprocessing import ProcessExitedException, ProcessRaisedException

    from .train import main

    errors = _user_errors(task)
    try:
        cfg = load_task_config(task, args)
        world = args.num_gpus * args.num_machines
        if world == 1 or _torchrun():
            if _torchrun():
                _join_torchrun(cfg)
            main(task, args, cfg)
        else:
            launch(
                _worker,
                args.num_gpus,
                num_machines=args.num_machines,
                machine_rank=args.machine_rank,
                dist_url=args.dist_url,
                args=(task, args),
            )
    except errors as e:
        print(f"error: {user_message(e)}", file=sys.stderr)
        return 2
    except ProcessExitedException as e:
        return 2 if e.exit_code == 2 else 1
    except ProcessRaisedException as e:
        print(f"error: a training process failed:\n{e}", file=sys.stderr)
        return 1
    return 0
