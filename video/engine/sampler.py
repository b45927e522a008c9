"""Deterministic epoch shuffling, sharded over ranks, that can start in the middle of an epoch, and the
per-sample random seeds that make a resumed run draw what the uninterrupted one drew.

Resuming from a mid-epoch checkpoint replays the same order and skips what was already seen -- not
possible with ``DistributedSampler``, which always starts at the beginning. Exactness also needs the
augmentation (frame positions, scale, crop, flip, the replacement of an unreadable video) to be a function
of the sample's place in the epoch, not of how far a process or a DataLoader worker had drawn from its
random stream before: with ``seeded=True`` the sampler yields ``(index, seed)`` pairs and
:class:`SeededSamples` loads each sample under its own seed.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler


def derive_seed(*parts: int) -> int:
    """A 63-bit seed that is a fixed function of ``parts`` (e.g. base seed, epoch, position)."""
    digest = hashlib.blake2b(repr(tuple(int(p) for p in parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def seed_everything(seed: int) -> None:
    """Seeds Python, NumPy and torch (every device) from one 63-bit ``seed``."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


class ShardedSampler(Sampler):
    """Indices of ``size`` items for ``rank`` of ``world_size``: shuffled with ``seed + epoch`` (or in
    order), padded by wrapping so every rank gets the same count, from ``start`` (per-rank position).

    ``seeded``: yield ``(index, sample_seed)`` with a seed fixed by ``(seed, epoch, position in the
    epoch)``, for :class:`SeededSamples`."""

    def __init__(
        self,
        size: int,
        shuffle: bool,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        pad: bool = True,
        seeded: bool = False,
    ):
        self.size, self.shuffle, self.seed = size, shuffle, seed
        self.rank, self.world_size, self.pad, self.seeded = rank, world_size, pad, seeded
        self.epoch, self.start = 0, 0

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        self.epoch, self.start = epoch, start

    def _all(self) -> list[Any]:
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed + self.epoch)
            order = torch.randperm(self.size, generator=g).tolist()
        else:
            order = list(range(self.size))
        if self.pad:  # equal length on every rank (needed for DDP steps); padding repeats items
            total = -(-self.size // self.world_size) * self.world_size
            order += order[: total - self.size]
        if self.seeded:  # the seed belongs to the position in the epoch, whatever the rank count
            order = [(i, derive_seed(self.seed, self.epoch, pos)) for pos, i in enumerate(order)]
        return order[self.rank :: self.world_size]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._all()[self.start :])

    def __len__(self) -> int:
        per_rank = (
            -(-self.size // self.world_size)
            if self.pad
            else len(range(self.rank, self.size, self.world_size))
        )
        return max(0, per_rank - self.start)


class SeededSamples(Dataset):
    """``dataset`` indexed by ``(index, seed)``: the sample is loaded with Python, NumPy and torch seeded
    from ``seed`` (their previous states restored afterwards), so its random augmentation is the same in
    any process, DataLoader worker or resumed run. Other attributes (``classes`` ...) are the dataset's."""

    def __init__(self, dataset: Dataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getattr__(self, name: str) -> Any:
        if name == "dataset":  # not set yet (unpickling in a worker)
            raise AttributeError(name)
        return getattr(self.dataset, name)

    def __getitem__(self, item: tuple[int, int]) -> Any:
        index, seed = item
        py, npy = random.getstate(), np.random.get_state()
        try:
            with torch.random.fork_rng(devices=[]):
                seed_everything(seed)
                return self.dataset[index]
        finally:
            random.setstate(py)
            np.random.set_state(npy)
