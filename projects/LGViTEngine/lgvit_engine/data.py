"""Epoch-based training data that resumes at any iteration, for map-style datasets (classification,
video).

:class:`EpochLoader` is an endless iterator of micro-batches: epoch ``e`` takes the index order of a
sampler after ``sampler.set_epoch(e)`` (torch's ``DistributedSampler``, timm's ``RepeatAugSampler``: the
order is a function of the epoch), cut into batches (the last incomplete one dropped, and the epoch cut to
a whole number of optimizer steps). Every sample is loaded by :class:`SeededDataset` under a seed derived
from ``(seed, epoch, position)``, so its augmentation does not depend on the worker that loads it, on
the number of workers or on where a run was resumed: a loader started at iteration ``k`` yields exactly
the batches an uninterrupted run saw from ``k`` on, without loading the ones before.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

__all__ = ["EpochLoader", "SeededDataset", "sample_seed"]


def sample_seed(seed: int, epoch: int, position: int) -> int:
    """The seed of the sample at ``position`` of ``epoch`` (a 32-bit value, well mixed)."""
    return int(np.random.SeedSequence([seed, epoch, position]).generate_state(1)[0])


class SeededDataset(Dataset):
    """``dataset[(seed, index)]``: ``dataset[index]`` with Python, NumPy and torch seeded by ``seed``. In
    the main process (``num_workers=0``) the RNG states are restored afterwards, so loading does not
    change the training's random numbers."""

    def __init__(self, dataset: Dataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: tuple[int, int]) -> Any:
        seed, index = key
        main = torch.utils.data.get_worker_info() is None
        cpu = torch.default_generator  # transforms run on the CPU (torch.manual_seed, which also seeds
        if main:  # every GPU, costs ~100x more per sample)
            saved = random.getstate(), np.random.get_state(), cpu.get_state()
        random.seed(seed)
        np.random.seed(seed)
        cpu.manual_seed(seed)
        try:
            return self.dataset[index]
        finally:
            if main:
                random.setstate(saved[0])
                np.random.set_state(saved[1])
                cpu.set_state(saved[2])


class _Batches(Sampler):
    def __init__(self, batches: list[list[tuple[int, int]]]):
        self.batches = batches

    def __iter__(self):
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


class EpochLoader:
    """Endless micro-batches from ``start_step`` on (see the module docstring).

    Args:
        dataset: a map-style dataset.
        sampler: the per-process index order; ``set_epoch(epoch)`` is called before each epoch.
        batch_size: samples per micro-batch (per process).
        accum_steps: micro-batches per optimizer step.
        seed: the run's data seed.
        start_step: the optimizer step to start at.
        loader_kwargs: ``DataLoader`` arguments (``num_workers``, ``collate_fn``, ``pin_memory`` ...).
    """

    def __init__(
        self,
        dataset: Dataset,
        sampler: Any,
        batch_size: int,
        seed: int,
        start_step: int = 0,
        accum_steps: int = 1,
        **loader_kwargs: Any,
    ):
        self.dataset, self.sampler = dataset, sampler
        self.batch_size, self.accum_steps = int(batch_size), int(accum_steps)
        self.seed, self.start_step = int(seed), int(start_step)
        self.loader_kwargs = loader_kwargs
        self.steps_per_epoch = len(sampler) // self.batch_size // self.accum_steps

    def _epoch(self, epoch: int, skip: int) -> DataLoader:
        self.sampler.set_epoch(epoch)
        keyed = [(sample_seed(self.seed, epoch, pos), int(i)) for pos, i in enumerate(self.sampler)]
        n = self.steps_per_epoch * self.accum_steps
        batches = [keyed[b * self.batch_size : (b + 1) * self.batch_size] for b in range(n)][skip:]
        return DataLoader(
            SeededDataset(self.dataset),
            batch_sampler=_Batches(batches),
            generator=torch.Generator().manual_seed(self.seed + epoch),  # not the global RNG
            **self.loader_kwargs,
        )

    def epoch_of(self, step: int) -> int:
        return step // self.steps_per_epoch

    def __iter__(self) -> Iterator[Any]:
        if self.steps_per_epoch < 1:
            raise ValueError(
                f"batch size {self.batch_size} x {self.accum_steps} accumulation steps is larger than the "
                f"{len(self.sampler)} samples each process gets per epoch: lower train.batch_size"
            )
        epoch, within = divmod(self.start_step, self.steps_per_epoch)
        skip = within * self.accum_steps
        while True:
            yield from self._epoch(epoch, skip)
            epoch, skip = epoch + 1, 0


def steps_per_epoch(num_samples: int, batch_size: int, accum_steps: int = 1) -> int:
    """Optimizer steps per epoch for ``num_samples`` per process."""
    return num_samples // batch_size // accum_steps
