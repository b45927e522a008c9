"""Detection and segmentation as a task of the lgvit training runtime (:mod:`lgvit_engine`).

The config keys are those of Detectron2's stock ``tools/lazyconfig_train_net.py`` (``model``,
``dataloader``, ``optimizer``, ``lr_multiplier``, ``train``); what this task adds to the runtime:

* ``train.init_checkpoint`` / ``--weights`` may be a *classification* checkpoint (ours or the family's
  official format, any file name or format): it is converted by the model's checkpoint filter and strictly
  checked (:mod:`lgvit_det.checkpoint`); detector weights must fit the backbone (heads may differ when
  fine-tuning). Anything else is refused with the keys named;
* the training data resume at the iteration where a run stopped: the sampler is Detectron2's
  ``TrainingSampler`` seeded by the run's data seed, advanced past the images already seen (no batch seen
  twice);
* user-data checks: the model's class/keypoint counts against the datasets
  (:func:`lgvit_det.checks.check_model_data`), unreadable training images named
  (:class:`lgvit_det.checks.ImageErrorNamingMapper`: training stops, the message once), and ``--eval-only``
  refusing weights that leave parts of the model at initialisation unless ``--eval-allow-missing``;
* evaluation results are returned, so callers can assert on them.
"""

from __future__ import annotations

import argparse
import itertools
import logging
from collections.abc import Iterator
from typing import Any

import lgvit_engine
import torch
import torch.nn as nn
from detectron2.data.samplers import TrainingSampler
from detectron2.evaluation import inference_on_dataset, print_csv_format
from detectron2.utils import comm
from lgvit_engine import ConfigError, Task, instantiate
from lgvit_engine.train import amp_dtype
from lgvit_engine.weights import load_weights as load_checked_weights
from lgvit_engine.weights import read_weights_state_dict

from lgvit.checkpoint import CheckpointError

from .checkpoint import classification_to_detector, is_detector_state_dict
from .checks import DataModelMismatch, ImageErrorNamingMapper, UnreadableImageError, check_model_data

__all__ = [
    "DetectionTask",
    "build_model",
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
    """The runtime's config loader for detection configs: a config without :data:`REQUIRED_KEYS` (e.g. a
    video config) and unknown or ill-typed ``key=value`` overrides (``train.max_itr=5``) raise a
    :class:`~lgvit_engine.ConfigError` that says what to change."""
    cfg = lgvit_engine.load_config(config_file, opts, required=REQUIRED_KEYS, kind="detection")
    if "mixup" in cfg:  # video configs have every detection top-level key, and mixup
        raise ConfigError(
            f"{config_file} is not a detection config: it defines mixup, as video configs do. It looks like "
            "a video config: train it with python -m video.train --config-file ..."
        )
    return cfg


def use_amp(cfg) -> bool:
    """AMP is a CUDA feature here: a config asking for it on CPU trains in fp32 (and the log says so)."""
    return amp_dtype(cfg, torch.device(str(cfg.train.device).split(":")[0]), logger) is not None


def build_model(cfg) -> nn.Module:
    """Instantiates ``cfg.model`` on ``cfg.train.device``."""
    return instantiate(cfg.model).to(cfg.train.device)


def _missing_after(model: nn.Module, sd: dict[str, Any]) -> list[str]:
    own = model.state_dict()
    return sorted(k for k in own if k not in sd or tuple(sd[k].shape) != tuple(own[k].shape))


def _detector_state_dict(model: nn.Module, path: str) -> tuple[dict[str, Any], str]:
    """The weights of ``path`` in ``model``'s keys: detector weights as they are, classification weights
    converted into the backbone's keys (checked strictly: weights that do not fit the backbone raise)."""
    sd = read_weights_state_dict(path)
    if is_detector_state_dict(sd):
        return sd, "detector"
    converted, _ = classification_to_detector(sd, model)
    return converted, "classification"


def load_weights(model: nn.Module, path: str) -> list[str]:
    """Initial weights for training (``train.init_checkpoint`` / ``--weights``), whatever the file's name
    or format: classification weights through the checked backbone conversion; detector weights must fit
    the whole backbone (heads of another class count stay at initialisation). Returns the model
    parameters left at initialisation; logs what was loaded."""
    if not path:
        return []
    target = lgvit_engine.train.unwrap(model)
    sd, kind = _detector_state_dict(target, str(path))
    # classification weights were checked against the lgvit backbone by the conversion; detector weights
    # must fit it (FPN and heads, e.g. of another class count, may differ when fine-tuning)
    lgvit_part = "backbone.bottom_up."
    others = [k for k in target.state_dict() if not k.startswith(lgvit_part)]
    report = load_checked_weights(
        target,
        sd,
        allow_missing=[*others, "*.det_norms.*"],
        allow_unexpected=[k for k in sd if not k.startswith(lgvit_part)],
        what=f"{path!r} ({kind} weights)",
    )
    logger.info(
        "train.init_checkpoint %s: %s weights, %d tensors loaded, %d parameters left at initialisation",
        path,
        kind,
        len(report["loaded"]),
        len(report["missing"]),
    )
    return report["missing"]


def _arrival(stream: Iterator[int], batch_size: int, workers: int) -> Iterator[int]:
    """The order in which a Detectron2 training loader's workers deliver the sampler's ``stream`` to the
    main process: each worker takes chunks of ``batch_size`` in turn (``ToIterableDataset``) and the
    DataLoader takes one item from each worker in turn."""
    w = max(workers, 1)
    while True:
        block = list(itertools.islice(stream, w * batch_size))
        for j in range(batch_size):
            for k in range(w):
                yield block[k * batch_size + j]


def _stream_for(arrival: Iterator[int], batch_size: int, workers: int) -> Iterator[int]:
    """The inverse of :func:`_arrival`: a sampler stream whose items arrive in the order ``arrival``."""
    w = max(workers, 1)
    while True:
        items = list(itertools.islice(arrival, w * batch_size))
        block = [0] * len(items)
        for n, idx in enumerate(items):
            j, k = divmod(n, w)
            block[k * batch_size + j] = idx
        yield from block


class _ResumedSampler(torch.utils.data.Sampler):
    """The per-process sampler of a run resumed at iteration ``start_iter``: the loader built on it yields
    the batches (the same images, in the same order) that the uninterrupted run's loader yields from
    ``start_iter`` on, and none of those before; no image is loaded to get there. It replays the index
    stream through Detectron2's worker interleaving and aspect-ratio grouping (images waiting in a bucket
    at the stop are delivered first again)."""

    def __init__(
        self, sampler: Any, dataset: Any, skip_batches: int, batch_size: int, workers: int, grouped: bool
    ):
        self.sampler, self.dataset, self.skip = sampler, dataset, skip_batches
        self.batch_size, self.workers, self.grouped = batch_size, workers, grouped

    def _bucket(self, idx: int) -> int:
        d = self.dataset[idx]
        return 0 if d["width"] > d["height"] else 1

    def __iter__(self) -> Iterator[int]:
        bs = self.batch_size
        arrival = _arrival(iter(self.sampler), bs, self.workers)
        left: list[int] = []
        if not self.grouped:
            arrival = itertools.islice(arrival, self.skip * bs, None)
        elif self.skip:
            buckets: tuple[list[tuple[int, int]], list[tuple[int, int]]] = ([], [])
            done = seq = 0
            while done < self.skip:
                idx = next(arrival)
                bucket = buckets[self._bucket(idx)]
                bucket.append((seq, idx))
                seq += 1
                if len(bucket) == bs:
                    bucket.clear()
                    done += 1
            left = [idx for _, idx in sorted(buckets[0] + buckets[1])]  # waiting at the stop, in order
        return _stream_for(itertools.chain(left, arrival), bs, self.workers)


class DetectionTask(Task):
    """Detection and segmentation on Detectron2 lazy configs (see the module docstring)."""

    name = "lgvit_det"
    kind = "detection"
    required_keys = REQUIRED_KEYS
    user_errors = (DataModelMismatch, UnreadableImageError)

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--eval-allow-missing",
            action="store_true",
            help="with --eval-only: report metrics even when the weights leave parts of the model (e.g. a "
            "head) at random initialisation (refused by default)",
        )

    def check_config(self, cfg: Any, args: argparse.Namespace) -> None:
        if "mixup" in cfg:
            raise ConfigError(
                f"{args.config_file} is not a detection config: it defines mixup, as video configs do. It "
                "looks like a video config: train it with python -m video.train --config-file ..."
            )

    def build_train_loader(self, cfg: Any, start_iter: int, seed: int) -> Any:
        train_cfg = cfg.dataloader.train
        build_loader = train_cfg._target_
        per_step = int(cfg.train.get("accum_steps", 1))

        def build(dataset: Any, *args: Any, mapper: Any = None, sampler: Any = None, **kwargs: Any) -> Any:
            mapper = ImageErrorNamingMapper(mapper) if mapper is not None else None
            total = kwargs.get("total_batch_size")
            if sampler is None and total and hasattr(dataset, "__len__"):
                per_rank = total // comm.get_world_size()
                sampler = TrainingSampler(len(dataset), shuffle=True, seed=seed)
                if start_iter:
                    grouped = kwargs.get("aspect_ratio_grouping", True) and all(
                        "width" in d and "height" in d for d in itertools.islice(dataset, 1)
                    )
                    sampler = _ResumedSampler(
                        sampler,
                        dataset,
                        start_iter * per_step,
                        per_rank,
                        kwargs.get("num_workers", 0),
                        grouped,
                    )
            return build_loader(dataset, *args, mapper=mapper, sampler=sampler, **kwargs)

        train_cfg._target_ = build
        try:
            loader = instantiate(train_cfg)
        finally:
            train_cfg._target_ = build_loader
        check_model_data(cfg.model, train_cfg.dataset.names)  # after loading: user datasets' classes known
        return loader

    def load_weights(self, model: nn.Module, path: str) -> list[str]:
        return load_weights(model, path)

    def load_eval_weights(self, model: nn.Module, path: str, args: argparse.Namespace, cfg: Any) -> None:
        if path:
            sd, _ = _detector_state_dict(model, str(path))
            missing, what = _missing_after(model, sd), path
        else:
            sd, missing = {}, sorted(model.state_dict())
            what = "no weights (no train.init_checkpoint, --weights or --resume)"
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
        if sd:
            load_checked_weights(model, sd, allow_missing=("*",), allow_unexpected=("*",), what=str(what))

    def evaluate(self, cfg: Any, model: nn.Module) -> dict[str, Any]:
        """Runs ``cfg.dataloader.test`` through ``model`` and ``cfg.dataloader.evaluator``; returns the
        metrics (e.g. ``{"bbox": {"AP": ...}, "segm": {...}}``), ``{}`` without an evaluator."""
        if "evaluator" not in cfg.dataloader:
            return {}
        test_loader = instantiate(cfg.dataloader.test)  # loads the dataset: class names known from here on
        check_model_data(cfg.model, cfg.dataloader.test.dataset.names)
        results = inference_on_dataset(model, test_loader, instantiate(cfg.dataloader.evaluator))
        if comm.is_main_process():
            print_csv_format(results)
        return results


TASK = DetectionTask()


def do_test(cfg, model: nn.Module) -> dict[str, Any]:
    """The task's evaluation (:meth:`DetectionTask.evaluate`)."""
    return lgvit_engine.do_test(TASK, cfg, model)


def do_train(cfg, resume: bool = False) -> dict[str, Any]:
    """Trains ``cfg`` on the runtime; returns the last evaluation's metrics."""
    return lgvit_engine.do_train(TASK, cfg, resume=resume)


def parse_args(argv: list[str] | None = None, epilog: str | None = None):
    """The runtime's command line (:func:`lgvit_engine.parse_args`) + ``--eval-allow-missing``."""
    return lgvit_engine.parse_args(argv, epilog=epilog, task=TASK)


def main(args) -> dict[str, Any]:
    """What every process runs (Detectron2's ``launch``)."""
    return lgvit_engine.main(TASK, args)


def run(args) -> int:
    """What ``train_net.py`` does (:func:`lgvit_engine.run`): exit status 0, or 2 with one message."""
    return lgvit_engine.run(TASK, args)
