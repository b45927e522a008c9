"""Training and evaluation loops for lazy configs (importable, so tests and the demo call them).

The same config keys as Detectron2's stock ``tools/lazyconfig_train_net.py`` (``model``, ``dataloader``,
``optimizer``, ``lr_multiplier``, ``train``), plus:

* ``train.init_checkpoint`` may be a *classification* checkpoint (ours or the family's official format):
  it is converted by the model's checkpoint filter and strictly checked (:mod:`lgvit_det.checkpoint`);
  detector checkpoints load as usual;
* AMP only on CUDA (said in the log when a config asks for it on CPU);
* multi-process CPU training (gloo): DDP without ``device_ids``;
* evaluation results are returned, so callers can assert on them;
* user-data checks (issue 12): the model's class/keypoint counts against the datasets
  (:func:`lgvit_det.checks.check_model_data`), unreadable training images named
  (:class:`lgvit_det.checks.ImageErrorNamingMapper`: training stops), ``--resume`` from the newest intact
  checkpoint (:func:`lgvit_det.resume.resume_checkpoint`), and ``--eval-only`` refusing weights that leave
  parts of the model at initialisation unless ``--eval-allow-missing``.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import torch
import torch.nn as nn
from detectron2.checkpoint import DetectionCheckpointer
from detectron2.config import instantiate
from detectron2.engine import (
    AMPTrainer,
    SimpleTrainer,
    default_argument_parser,
    default_setup,
    default_writers,
    hooks,
)
from detectron2.engine.defaults import create_ddp_model
from detectron2.evaluation import inference_on_dataset, print_csv_format
from detectron2.utils import comm
from detectron2.utils.env import seed_all_rng

from lgvit.checkpoint import CheckpointError
from lgvit.config import ConfigError
from lgvit.config import load_config as lgvit_load_config

from .checkpoint import is_detector_state_dict, load_backbone_weights, read_state_dict
from .checks import DataModelMismatch, ImageErrorNamingMapper, UnreadableImageError, check_model_data
from .resume import resume_checkpoint

__all__ = [
    "ReportingCheckpointer",
    "build_model",
    "configure_threads",
    "do_test",
    "do_train",
    "load_config",
    "load_weights",
    "main",
    "parse_args",
    "run",
    "use_amp",
]

logger = logging.getLogger("lgvit_det")


# The top-level keys of a detection config (those of Detectron2's lazyconfig_train_net.py).
REQUIRED_KEYS = ("model", "dataloader", "optimizer", "lr_multiplier", "train.max_iter")


def load_config(config_file: str, opts: list[str] | None = None):
    """The project's one config loader (:func:`lgvit.config.load_config`) for detection configs: a config
    without :data:`REQUIRED_KEYS` (e.g. a video config) and unknown or ill-typed ``key=value`` overrides
    (``train.max_itr=5``) raise a :class:`~lgvit.config.ConfigError` that says what to change."""
    cfg = lgvit_load_config(config_file, opts, required=REQUIRED_KEYS, kind="detection")
    if "mixup" in cfg:  # video configs have every detection top-level key, and mixup
        raise ConfigError(
            f"{config_file} is not a detection config: it defines mixup, as video configs do. It looks like "
            "a video config: train it with python -m video.train --config-file ..."
        )
    return cfg


def use_amp(cfg) -> bool:
    """AMP is a CUDA feature here: a config asking for it on CPU trains in fp32 (and the log says so)."""
    wanted = bool(cfg.train.get("amp", {}).get("enabled", False))
    on_cuda = str(cfg.train.device).startswith("cuda")
    if wanted and not on_cuda:
        logger.info(
            "AMP is off: train.amp.enabled=True but the device is %s (AMP is used on CUDA only)",
            cfg.train.device,
        )
    return wanted and on_cuda


def build_model(cfg) -> nn.Module:
    """Instantiates ``cfg.model`` on ``cfg.train.device``."""
    model = instantiate(cfg.model)
    return model.to(cfg.train.device)


def _ddp(model: nn.Module, cfg) -> nn.Module:
    kwargs = dict(cfg.train.get("ddp", {}))
    if not str(cfg.train.device).startswith("cuda"):
        kwargs["device_ids"] = None  # CPU modules (gloo) take no device ids
    return create_ddp_model(model, **kwargs)


class ReportingCheckpointer(DetectionCheckpointer):
    """Detectron2's checkpointer that remembers which model parameters its last load left at their
    initialisation (``missing``: absent from the file or of another shape)."""

    missing: list[str] = []

    def _load_model(self, checkpoint: Any) -> Any:
        incompatible = super()._load_model(checkpoint)
        shapes = {k for k, *_ in getattr(incompatible, "incorrect_shapes", ())}
        self.missing = sorted(set(incompatible.missing_keys) | shapes)
        return incompatible


def load_weights(model: nn.Module, path: str, checkpointer: DetectionCheckpointer | None = None) -> list[str]:
    """Loads ``path`` into ``model``: classification weights through the checked backbone conversion,
    anything else through Detectron2's checkpointer. Returns the model parameters left at initialisation
    (with classification weights: everything outside the backbone's bottom-up)."""
    if not path:
        return []
    target = model.module if hasattr(model, "module") else model
    if path.endswith((".pth", ".pt")):
        sd = read_state_dict(path)
        if not is_detector_state_dict(sd):
            load_backbone_weights(target, sd)
            return sorted(k for k in target.state_dict() if not k.startswith("backbone.bottom_up."))
    checkpointer = checkpointer or ReportingCheckpointer(model)
    checkpointer.load(path, checkpointables=[])
    return list(getattr(checkpointer, "missing", []))


def _model_keys(model: nn.Module) -> set[str]:
    return set((model.module if hasattr(model, "module") else model).state_dict())


def do_test(cfg, model: nn.Module) -> dict[str, Any]:
    """Runs ``cfg.dataloader.test`` through ``model`` and ``cfg.dataloader.evaluator``; returns the metrics
    (e.g. ``{"bbox": {"AP": ...}, "segm": {...}}``), ``{}`` without an evaluator."""
    if "evaluator" not in cfg.dataloader:
        return {}
    test_loader = instantiate(cfg.dataloader.test)  # loads the dataset: class names known from here on
    check_model_data(cfg.model, cfg.dataloader.test.dataset.names)
    results = inference_on_dataset(model, test_loader, instantiate(cfg.dataloader.evaluator))
    if comm.is_main_process():
        print_csv_format(results)
    return results


def do_train(cfg, resume: bool = False) -> dict[str, Any]:
    """Trains ``cfg`` (checkpoints, periodic evaluation, TensorBoard/JSON/console metrics in
    ``train.output_dir``) and returns the last evaluation's metrics."""
    if cfg.train.get("seed", -1) >= 0:
        seed_all_rng(cfg.train.seed + comm.get_rank())
    model = build_model(cfg)
    logger.info("Model:\n%s", model)
    cfg.optimizer.params.model = model
    optimizer = instantiate(cfg.optimizer)
    train_cfg = cfg.dataloader.train
    build_loader = train_cfg._target_
    train_cfg._target_ = _naming_image_errors(build_loader)  # unreadable images stop with their name
    try:
        train_loader = instantiate(train_cfg)
    finally:
        train_cfg._target_ = build_loader
    check_model_data(cfg.model, train_cfg.dataset.names)  # after loading: user datasets' classes are known

    model = _ddp(model, cfg)
    trainer = (AMPTrainer if use_amp(cfg) else SimpleTrainer)(model, train_loader, optimizer)
    checkpointer = DetectionCheckpointer(model, cfg.train.output_dir, trainer=trainer)
    last: dict[str, Any] = {}

    def evaluate() -> dict[str, Any]:
        last.clear()
        last.update(do_test(cfg, model))
        return last

    trainer.register_hooks(
        [
            hooks.IterationTimer(),
            hooks.LRScheduler(scheduler=instantiate(cfg.lr_multiplier)),
            hooks.PeriodicCheckpointer(checkpointer, **cfg.train.checkpointer)
            if comm.is_main_process()
            else None,
            hooks.EvalHook(cfg.train.eval_period, evaluate),
            hooks.PeriodicWriter(
                default_writers(cfg.train.output_dir, cfg.train.max_iter), period=cfg.train.log_period
            )
            if comm.is_main_process()
            else None,
        ]
    )

    path = resume_checkpoint(cfg.train.output_dir) if resume else None  # newest intact one
    if path is not None:
        checkpointer.load(path)
        start_iter = trainer.iter + 1  # the checkpoint stores the iteration that just finished
    else:
        load_weights(model, cfg.train.init_checkpoint, checkpointer)
        start_iter = 0
    trainer.train(start_iter, cfg.train.max_iter)
    return dict(last)


def parse_args(argv: list[str] | None = None, epilog: str | None = None):
    """Detectron2's standard arguments (``--config-file``, ``--eval-only``, ``--resume``, ``--num-gpus``,
    ``--num-machines``, ``--machine-rank``, ``--dist-url``, ``key=value`` overrides) + ``--num-threads``."""
    parser = default_argument_parser(epilog=epilog)
    parser.add_argument(
        "--num-threads", type=int, default=0, help="torch intra-op threads per process (0: default)"
    )
    parser.add_argument(
        "--eval-allow-missing",
        action="store_true",
        help="with --eval-only: report metrics even when the weights leave parts of the model (e.g. a "
        "head) at random initialisation (refused by default)",
    )
    return parser.parse_args(argv)


def main(args) -> dict[str, Any]:
    """Entry point of ``train_net.py`` (run in every process by Detectron2's ``launch``)."""
    configure_threads(getattr(args, "num_threads", 0))
    cfg = load_config(args.config_file, args.opts)
    default_setup(cfg, args)
    if args.eval_only:
        model = build_model(cfg)
        model = _ddp(model, cfg)
        checkpointer = ReportingCheckpointer(model, cfg.train.output_dir)
        path = resume_checkpoint(cfg.train.output_dir) if args.resume else None
        if path is not None:
            checkpointer.load(path, checkpointables=[])
            missing, what = checkpointer.missing, path
        elif cfg.train.init_checkpoint:
            missing = load_weights(model, cfg.train.init_checkpoint, checkpointer)
            what = cfg.train.init_checkpoint
        else:
            missing, what = sorted(_model_keys(model)), "no weights (no train.init_checkpoint or --resume)"
        if missing and not getattr(args, "eval_allow_missing", False):
            shown = ", ".join(missing[:8]) + (f" ... (+{len(missing) - 8})" if len(missing) > 8 else "")
            raise CheckpointError(
                f"--eval-only: {what} leaves {len(missing)} model parameters at random initialisation "
                f"({shown}), so the metrics would not describe a trained model. Is it a checkpoint of "
                "another detector (e.g. Keypoint R-CNN for a Mask R-CNN config)? Pass --eval-allow-missing "
                "to evaluate anyway."
            )
        if missing:
            logger.warning(
                "--eval-only with %d parameters at initialisation (--eval-allow-missing)", len(missing)
            )
        return do_test(cfg, model)
    return do_train(cfg, resume=args.resume)


def run(args) -> int:
    """What ``train_net.py`` does: checks the config and its overrides once, before any process starts
    or anything is built (a wrong key exits with status 2 and says what to change), then runs
    :func:`main` in every process through Detectron2's ``launch``."""
    from detectron2.engine import launch

    try:
        load_config(args.config_file, args.opts)
    except (ConfigError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        launch(
            main,
            args.num_gpus,
            num_machines=args.num_machines,
            machine_rank=args.machine_rank,
            dist_url=args.dist_url,
            args=(args,),
        )
    except (CheckpointError, DataModelMismatch, UnreadableImageError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)  # user data/weights problems: the message, not a traceback
        return 2
    return 0


def _naming_image_errors(build_loader: Any) -> Any:
    """``build_loader`` (e.g. ``build_detection_train_loader``) with its ``mapper`` wrapped in
    :class:`~lgvit_det.checks.ImageErrorNamingMapper`."""

    def build(*args: Any, mapper: Any = None, **kwargs: Any) -> Any:
        mapper = ImageErrorNamingMapper(mapper) if mapper is not None else None
        return build_loader(*args, mapper=mapper, **kwargs)

    return build


def configure_threads(num_threads: int | None) -> None:
    """Sets torch's intra-op threads (0 or None: leave torch's default)."""
    if num_threads:
        torch.set_num_threads(num_threads)
