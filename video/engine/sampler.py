"""Deterministic epoch shuffling, sharded over ranks, that can start in the middle of an epoch.

Resuming from a mid-epoch checkpoint replays the same order and skips what was already seen -- not
possible with ``DistributedSampler``, which always starts at the beginning.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import Sampler


class ShardedSampler(Sampler[int]):
    """Indices of ``size`` items for ``rank`` of ``world_size``: shuffled with ``seed + epoch`` (or in
    order), padded by wrapping so every rank gets the same count, from ``start`` (per-rank position)."""

    def __init__(
        self, size: int, shuffle: bool, seed: int = 0, rank: int = 0, world_size: int = 1, pad: bool = True
    ):
        self.size, self.shuffle, self.seed = size, shuffle, seed
        self.rank, self.world_size, self.pad = rank, world_size, pad
        self.epoch, self.start = 0, 0

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        self.epoch, self.start = epoch, start

    def _all(self) -> list[int]:
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed + self.epoch)
            order = torch.randperm(self.size, generator=g).tolist()
        else:
            order = list(range(self.size))
        if self.pad:  # equal length on every rank (needed for DDP steps); padding repeats items
            total = -(-self.size // self.world_size) * self.world_size
            order += order[: total - self.size]
        return order[self.rank :: self.world_size]

    def __iter__(self) -> Iterator[int]:
        return iter(self._all()[self.start :])

    def __len__(self) -> int:
        per_rank = (
            -(-self.size // self.world_size)
            if self.pad
            else len(range(self.rank, self.size, self.world_size))
        )
        return max(0, per_rank - self.start)
