"""The training loop of every task: Detectron2's ``TrainerBase`` + hooks (``tools/lazyconfig_train_net.py``'s
pattern), with what lgvit's tasks add to it:

* :class:`Trainer`: one ``run_step`` for every task: ``train.accum_steps`` micro-batches per optimizer step
  (DDP syncs on the last), the task's :meth:`~lgvit_engine.Task.loss` (mixup, soft targets), AMP on CUDA
  (bf16 where supported, else fp16 with a gradient scaler; a config asking for AMP on CPU trains in fp32
  and the log says so), ``train.clip_grad``;
* exact resume: the checkpoint holds, besides model, optimizer, scaler and schedule, the RNG states
  (:class:`RNGState`) and the data seed (:class:`RunState`); the task's loader starts at the saved
  iteration (no batch seen twice), and evaluation never draws from the training RNGs
  (:func:`preserve_rng`), so a resumed run equals an uninterrupted one (one process);
* writers: console, ``metrics.json`` (JSON lines) and TensorBoard events for every task
  (Detectron2's ``default_writers``), and the task's logger configured (its info lines are shown).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import random
import time
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import torch
import torch.nn as nn
from detectron2.engine import SimpleTrainer, default_writers, hooks
from detectron2.engine.defaults import create_ddp_model
from detectron2.utils import comm
from detectron2.utils.env import seed_all_rng

from . import logs
from .checkpoint import Checkpointer, resume_checkpoint
from .config import save_config
from .task import Task

__all__ = [
    "EMAHook",
    "RNGState",
    "RunState",
    "Trainer",
    "amp_dtype",
    "device_of",
    "do_test",
    "do_train",
    "main",
    "preserve_rng",
    "setup",
    "unwrap",
]

logger = logging.getLogger("lgvit_engine")


def unwrap(model: nn.Module) -> nn.Module:
    """The model inside a DDP wrapper (the model itself otherwise)."""
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def device_of(cfg: Any) -> torch.device:
    """``train.device`` ("cpu", "cuda", "cuda:N" or "auto"; default "auto") as a device of this process."""
    name = str(cfg.train.get("device", "auto"))
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        return torch.device("cuda", comm.get_local_rank())
    return torch.device(name)


def amp_dtype(cfg: Any, device: torch.device, log: logging.Logger = logger) -> torch.dtype | None:
    """The autocast dtype (None: fp32). ``train.amp.enabled`` (Detectron2's key; also a plain bool
    ``train.amp``) on CUDA: bf16 where supported, else fp16. On CPU AMP stays off, and the log says so."""
    amp = cfg.train.get("amp", False)
    wanted = bool(amp.get("enabled", False) if isinstance(amp, Mapping) else amp)
    if wanted and device.type != "cuda":
        log.info("AMP is off: train.amp asks for it but the device is %s (AMP is used on CUDA only)", device)
        return None
    if not wanted:
        return None
    return torch.bfloat16 if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else torch.float16


# ------------------------------------------------------------------------------------------ state hooks


class RNGState(hooks.HookBase):
    """Checkpoints the RNG states of Python, NumPy and torch (CPU and CUDA) as they are after the saved
    iteration, and restores them on resume (drop path, mixup and main-process augmentation continue
    with the numbers the uninterrupted run drew). Stored as tensors/ints (readable with
    ``weights_only=True``)."""

    def state_dict(self) -> dict[str, Any]:
        kind, keys, pos, has_gauss, gauss = np.random.get_state()
        state = {
            "python": random.getstate(),
            "numpy": (kind, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(gauss)),
            "torch": torch.get_rng_state(),
        }
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state["cuda"] = torch.cuda.get_rng_state_all()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        version, internal, gauss = state["python"]
        random.setstate((version, tuple(internal), gauss))
        kind, keys, pos, has_gauss, cached = state["numpy"]
        np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
        torch.set_rng_state(state["torch"])
        if "cuda" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda"])


class RunState(hooks.HookBase):
    """Checkpointed values of a run that are not in the model or optimizer: the data ``seed`` (the order
    and augmentation of the data are functions of it and the iteration) and task counters
    (``counters``, e.g. skipped unreadable images)."""

    def __init__(self, seed: int):
        self.seed = int(seed)
        self.counters: dict[str, int] = {}

    def state_dict(self) -> dict[str, Any]:
        return {"seed": self.seed, "counters": dict(self.counters)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.seed = int(state["seed"])
        self.counters = {k: int(v) for k, v in state.get("counters", {}).items()}


class EMAHook(hooks.HookBase):
    """A model EMA (e.g. ``timm.utils.ModelEmaV3``: ``update(model, step=...)`` and ``.module``) updated
    after every optimizer step; its weights are checkpointed (``trainer.hooks.EMAHook.model``)."""

    def __init__(self, ema: Any, model: nn.Module):
        self.ema, self.model = ema, model

    def after_step(self) -> None:
        self.ema.update(self.model, step=self.trainer.iter + 1)

    def state_dict(self) -> dict[str, Any]:
        return {"model": self.ema.module.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.ema.module.load_state_dict(state["model"])


@contextlib.contextmanager
def preserve_rng() -> Iterator[None]:
    """Runs the block without changing the Python, NumPy and torch RNG states (evaluation must not shift
    the training's random numbers: a resumed run would differ from an uninterrupted one)."""
    py, npy = random.getstate(), np.random.get_state()
    with torch.random.fork_rng(
        devices=range(torch.cuda.device_count()) if torch.cuda.is_initialized() else []
    ):
        try:
            yield
        finally:
            random.setstate(py)
            np.random.set_state(npy)


# ------------------------------------------------------------------------------------------ the trainer


class Trainer(SimpleTrainer):
    """Detectron2's ``SimpleTrainer`` with one ``run_step`` for every task (see the module docstring)."""

    def __init__(
        self,
        task: Task,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        accum_steps: int = 1,
        amp_dtype: torch.dtype | None = None,
        clip_grad: float | None = None,
    ):
        super().__init__(model, None, optimizer)
        self.task = task
        self.accum_steps = int(accum_steps)
        self.amp_dtype = amp_dtype
        self.clip_grad = clip_grad
        self.grad_scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)

    @property
    def _data_loader_iter(self) -> Iterator[Any]:
        if self._data_loader_iter_obj is None:
            if self.data_loader is None:
                raise RuntimeError("the trainer has no data loader: set trainer.data_loader before train()")
            self._data_loader_iter_obj = iter(self.data_loader)
        return self._data_loader_iter_obj

    def _autocast(self) -> Any:
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast("cuda", dtype=self.amp_dtype)

    def run_step(self) -> None:
        assert self.model.training, "[Trainer] model was changed to eval mode!"
        self.optimizer.zero_grad(set_to_none=True)
        data_time, logged = 0.0, {}
        for micro in range(self.accum_steps):
            start = time.perf_counter()
            data = next(self._data_loader_iter)
            data_time += time.perf_counter() - start
            last = micro == self.accum_steps - 1
            no_sync = getattr(self.model, "no_sync", None)
            sync = contextlib.nullcontext() if last or no_sync is None else no_sync()
            with sync:
                with self._autocast():
                    loss_dict = self.task.loss(self.model, data)
                if isinstance(loss_dict, torch.Tensor):
                    loss_dict = {"total_loss": loss_dict}
                losses = sum(loss_dict.values())
                self.grad_scaler.scale(losses / self.accum_steps).backward()
            for k, v in loss_dict.items():
                logged[k] = logged.get(k, 0.0) + v.detach().float() / self.accum_steps
        self.after_backward()
        if self.clip_grad:
            self.grad_scaler.unscale_(self.optimizer)
            nn.utils.clip_grad_norm_(self.model.parameters(), self.clip_grad)
        self._write_metrics(logged, data_time)
        self.grad_scaler.step(self.optimizer)
        self.grad_scaler.update()

    def state_dict(self) -> dict[str, Any]:
        ret = super().state_dict()
        ret["grad_scaler"] = self.grad_scaler.state_dict()
        return ret

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        if "grad_scaler" in state_dict:
            self.grad_scaler.load_state_dict(state_dict["grad_scaler"])


# ------------------------------------------------------------------------------------------ train / test


def _numbers(results: Mapping[str, Any]) -> dict[str, Any]:
    """The numeric part of an evaluation (what Detectron2's EvalHook writes to the metrics)."""
    out: dict[str, Any] = {}
    for k, v in results.items():
        if isinstance(v, Mapping):
            sub = _numbers(v)
            if sub:
                out[k] = sub
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[k] = float(v)
    return out


def do_test(task: Task, cfg: Any, model: nn.Module) -> dict[str, Any]:
    """The task's evaluation of ``model`` (``{}`` when the config has no evaluation data)."""
    with preserve_rng():
        return task.evaluate(cfg, model)


def _ddp(model: nn.Module, cfg: Any, device: torch.device) -> nn.Module:
    kwargs = dict(cfg.train.get("ddp", {}) or {})
    if device.type != "cuda":
        kwargs["device_ids"] = None  # CPU modules (gloo) take no device ids
    return create_ddp_model(model, **kwargs)


def do_train(task: Task, cfg: Any, resume: bool = False, weights: str | None = None) -> dict[str, Any]:
    """Trains ``cfg`` with ``task`` (checkpoints, periodic evaluation, console/JSON/TensorBoard metrics in
    ``train.output_dir``) and returns the last evaluation. ``resume``: continue from the newest intact
    checkpoint of ``train.output_dir`` (from scratch when there is none); otherwise start from ``weights``
    (default ``train.init_checkpoint``)."""
    out = cfg.train.output_dir
    device = device_of(cfg)
    seed = int(cfg.train.get("seed", -1))
    if seed < 0:
        seed = int(np.random.SeedSequence().entropy % 2**31)
        seed = comm.all_gather(seed)[0] if comm.get_world_size() > 1 else seed
    seed_all_rng(seed + comm.get_rank())
    model = task.build_model(cfg).to(device)
    logger.info("Model:\n%s", model)
    path = resume_checkpoint(out) if resume else None
    if path is None:
        init = weights or cfg.train.get("init_checkpoint", "")
        if init:
            task.load_weights(model, init)
    optimizer = task.build_optimizer(cfg, model)
    model = _ddp(model, cfg, device)
    trainer = Trainer(
        task,
        model,
        optimizer,
        accum_steps=int(cfg.train.get("accum_steps", 1)),
        amp_dtype=amp_dtype(cfg, device, task.logger),
        clip_grad=cfg.train.get("clip_grad", None),
    )
    checkpointer = Checkpointer(unwrap(model), out, trainer=trainer)
    max_iter = task.max_iter(cfg)
    run_state = RunState(seed)
    trainer.run_state = run_state  # tasks may keep checkpointed counters in run_state.counters
    last: dict[str, Any] = {}

    def evaluate() -> dict[str, Any]:
        last.clear()
        last.update(do_test(task, cfg, model))
        return _numbers(last)

    ck = cfg.train.get("checkpointer", {}) or {}
    period = task.periods(cfg)
    scheduler = task.lr_scheduler(cfg, trainer)
    main_process = comm.is_main_process()
    trainer.register_hooks(
        [
            hooks.IterationTimer(),
            hooks.LRScheduler(scheduler=scheduler) if scheduler is not None else None,
            *task.build_hooks(cfg, trainer),
            RNGState(),
            run_state,
            hooks.PeriodicCheckpointer(checkpointer, period["checkpoint"], max_iter, ck.get("max_to_keep"))
            if main_process
            else None,
            hooks.EvalHook(period["eval"], evaluate),
            hooks.PeriodicWriter(default_writers(out, max_iter), period=period["log"])
            if main_process
            else None,
        ]
    )
    start_iter = 0
    if path is not None:
        checkpointer.load(path)  # model, optimizer, scaler, schedule, RNG states, data seed, task state
        start_iter = trainer.iter + 1  # the checkpoint stores the iteration that just finished
    trainer.data_loader = task.build_train_loader(cfg, start_iter, run_state.seed)
    trainer.train(start_iter, max_iter)
    if main_process and out:
        for written in task.save_final_weights(cfg, unwrap(model)):
            task.logger.info("final weights: %s", written)
    return dict(last)


# ------------------------------------------------------------------------------------------ processes


def setup(task: Task, cfg: Any, args: argparse.Namespace) -> None:
    """What Detectron2's ``default_setup`` does (output folder, ``log.txt``, ``config.yaml``; with a config
    file the environment, the command line and the config file in the log, the seed, cuDNN benchmark), with
    loggers the run owns (:mod:`lgvit_engine.logs`: Detectron2's ``setup_logger`` leaks handlers in-process):
    ``detectron2``, ``fvcore``, ``lgvit_engine`` and the task's, on the console (rank 0) and in ``log.txt``.
    Called from Python without a config file (demos, tests: ``args.config_file`` empty), the environment and
    config are not printed, only saved. :func:`lgvit_engine.logs.release` gives the loggers back."""
    rank = comm.get_rank()
    out = cfg.train.output_dir
    if comm.is_main_process() and out:
        os.makedirs(out, exist_ok=True)
    names = {"fvcore": "fvcore", "detectron2": "d2", "lgvit_engine": "lgvit_engine"}
    names.setdefault(task.name, task.name)
    logs.configure(out, rank, names)
    config_file = getattr(args, "config_file", "")
    if config_file:
        from detectron2.utils.collect_env import collect_env_info

        d2 = logging.getLogger("detectron2")
        d2.info(f"Rank of current process: {rank}. World size: {comm.get_world_size()}")
        d2.info("Environment info:\n" + collect_env_info())
        d2.info(f"Command line arguments: {args}")
        with open(config_file, encoding="utf-8") as f:
            d2.info(f"Contents of args.config_file={config_file}:\n{f.read()}")
    if comm.is_main_process() and out:
        save_config(cfg, os.path.join(out, "config.yaml"))
    if config_file:
        seed = cfg.train.get("seed", -1)
        seed_all_rng(None if seed is None or seed < 0 else seed + rank)
        if not getattr(args, "eval_only", False):
            torch.backends.cudnn.benchmark = bool(cfg.train.get("cudnn_benchmark", False))
    if getattr(args, "num_threads", 0):
        torch.set_num_threads(args.num_threads)


def main(task: Task, args: argparse.Namespace, cfg: Any = None) -> dict[str, Any]:
    """What runs in every process: set up, then train, or with ``--eval-only`` evaluate the weights
    (``--resume``: the newest intact checkpoint of ``train.output_dir``; else ``--weights`` or
    ``train.init_checkpoint``). ``cfg``: the config already loaded in this process (loaded otherwise)."""
    from .cli import load_task_config

    if cfg is None:
        cfg = load_task_config(task, args)
    setup(task, cfg, args)
    try:
        if not args.eval_only:
            return do_train(task, cfg, resume=args.resume, weights=getattr(args, "weights", None))
        device = device_of(cfg)
        model = task.build_model(cfg).to(device)
        path = resume_checkpoint(cfg.train.output_dir) if args.resume else None
        path = path or getattr(args, "weights", None) or cfg.train.get("init_checkpoint", "")
        task.load_eval_weights(model, path, args, cfg)
        model = _ddp(model, cfg, device)
        return do_test(task, cfg, model)
    finally:
        logs.release()  # the run's console and log.txt handlers end with it
