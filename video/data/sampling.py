"""Which frames to decode: TSN-style uniform sampling over the whole video (RegionViT A.4).

The video's ``n`` frames are split into ``num_samples`` equal segments. Training takes one frame at a
random position inside each segment; testing takes the segment centres (or, for ``num_clips``
temporal clips, the positions ``(k + 0.5) / num_clips`` inside every segment). A video shorter than
``num_samples`` frames yields repeated frames -- always exactly ``num_samples`` indices.
"""

from __future__ import annotations

import torch


def segment_positions(num_frames: int, num_samples: int, offsets: torch.Tensor) -> list[int]:
    """Frame indices at relative ``offsets`` in ``[0, 1)`` (one per segment) of ``num_samples`` equal
    segments of ``[0, num_frames)``."""
    if num_frames < 1:
        raise ValueError("the video has no frames")
    seg = num_frames / num_samples
    idx = ((torch.arange(num_samples, dtype=torch.float64) + offsets.double()) * seg).floor().long()
    return idx.clamp_(0, num_frames - 1).tolist()


def uniform_sample_indices(
    num_frames: int,
    num_samples: int = 8,
    train: bool = False,
    clip_index: int = 0,
    num_clips: int = 1,
    generator: torch.Generator | None = None,
) -> list[int]:
    """``num_samples`` frame indices spread uniformly over a video of ``num_frames`` frames.

    Args:
        train: random position inside each segment (else a fixed position: the centre for one clip).
        clip_index, num_clips: test-time temporal clip ``clip_index`` of ``num_clips``.
        generator: torch RNG for the training positions (default: the global one; DataLoader workers
            seed it per worker).
    """
    if num_samples < 1:
        raise ValueError(f"num_samples must be >= 1, got {num_samples}")
    if train:
        offsets = torch.rand(num_samples, generator=generator)
    else:
        if not 0 <= clip_index < num_clips:
            raise ValueError(f"clip_index {clip_index} is not in [0, {num_clips})")
        offsets = torch.full((num_samples,), (clip_index + 0.5) / num_clips)
    return segment_positions(num_frames, num_samples, offsets)
