"""The video task's data side: building the datasets of a config, refusing a model too small for their
labels, and loaders whose data errors arrive as one :class:`DataError` message (not a worker traceback)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from lgvit_engine import instantiate
from lgvit_engine.cli import user_message


class DataError(ValueError):
    """A dataset that cannot be read as configured (bad list file, transform that does not fit the clips,
    every video unreadable ...): the message says what and where; ``video.train`` prints it, exit 2."""


def build_dataset(node: Any, what: str) -> Any:
    """Instantiates the dataset config ``node`` (``what``: its config key, e.g. ``dataloader.train``); its
    ValueError / RuntimeError / OSError become a :class:`DataError` naming the key."""
    try:
        return instantiate(node)
    except (ValueError, RuntimeError, OSError) as e:
        raise DataError(f"{what}: {user_message(e)}") from e


def num_labels(dataset: Any) -> int:
    """The number of classes a dataset's labels need: its class list, or the largest label + 1."""
    classes = len(getattr(dataset, "classes", None) or [])
    records = getattr(dataset, "records", None) or []
    return max([classes, *(r.label + 1 for r in records)])


def check_num_classes(num_classes: int | None, dataset: Any, what: str, mixup: Any = None) -> None:
    """Refuses, before any step, a classifier with fewer outputs than ``dataset``'s labels need (which
    would otherwise fail mid-training as ``Target 3 is out of bounds``) and a mixup whose class count is
    not the model's."""
    if num_classes is None:
        return
    need = num_labels(dataset)
    if need > num_classes:
        raise DataError(
            f"model.num_classes={num_classes}, but {what} has {need} classes: set model.num_classes={need}"
            + (" (and mixup.num_classes)" if mixup is not None else "")
        )
    mix_classes = getattr(mixup, "num_classes", None)
    if mix_classes is not None and mix_classes != num_classes:
        raise DataError(
            f"mixup.num_classes={mix_classes} differs from model.num_classes={num_classes}: set both to "
            "the number of classes"
        )


class CheckedLoader:
    """Iterates ``loader``; an exception while producing a batch (in the main process or a worker) becomes
    a :class:`DataError` that names ``what`` and carries the dataset's own message."""

    def __init__(self, loader: Iterable, what: str):
        self.loader, self.what = loader, what

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self) -> Iterator[Any]:
        it = iter(self.loader)
        while True:
            try:
                batch = next(it)
            except StopIteration:
                return
            except (ValueError, RuntimeError, OSError, IndexError, KeyError) as e:
                raise DataError(f"reading {self.what} failed: {user_message(e)}") from e
            yield batch
