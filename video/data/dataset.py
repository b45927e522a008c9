"""A map-style labelled-video dataset: decode sampled frames, transform, never crash mid-epoch.

Why not pytorchvideo's ``LabeledVideoDataset``: it is an IterableDataset that samples clips by
seconds, while RegionViT (A.4) samples frames TSN-style over the whole video, and a map-style dataset
shards exactly with ``DistributedSampler``. Samples keep pytorchvideo's dict keys (``video``,
``label``, ``video_name``, ``video_index``).

Unreadable videos (missing, corrupt, empty) are warned about and counted, never raised:
``on_error="resample"`` (training) replaces the video by another random one so batches stay full
(DDP ranks then run equal steps); ``on_error="skip"`` (evaluation) returns a sample without
``video`` that :func:`collate_videos` drops. Either way the failed names travel in ``skipped``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch.utils.data import Dataset, default_collate

from .decoders import VideoDecodeError, get_decoder
from .functional import thwc_to_cthw
from .layouts import VideoList
from .sampling import uniform_sample_indices

logger = logging.getLogger(__name__)


class VideoClipDataset(Dataset):
    """Labelled videos -> samples ``{"video", "label", "video_name", "video_index", "skipped"}``.

    Args:
        videos: a :class:`~video.data.layouts.VideoList` (``records`` + ``classes``).
        num_frames: frames per clip T (uniform over the whole video; shorter videos repeat frames).
        train: random position in each segment (else segment centres).
        num_clips: temporal clips per video at test time; their frames are decoded in one pass and the
            clips stacked: ``video`` is then ``(num_clips * crops, C, T, H, W)`` after a 3-crop transform.
        decoder: ``"decord"`` or ``"pyav"``.
        transform: applied to the sample dict (``video`` arrives as uint8 ``(C, T, H, W)``).
        on_error: ``"resample"`` or ``"skip"`` (see the module docstring).
        max_retries: consecutive unreadable videos tolerated by ``resample`` before giving up.
    """

    def __init__(
        self,
        videos: VideoList,
        num_frames: int = 8,
        train: bool = True,
        num_clips: int = 1,
        decoder: str = "decord",
        transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        on_error: str = "resample",
        max_retries: int = 20,
    ):
        if on_error not in ("resample", "skip"):
            raise ValueError(f"on_error must be 'resample' or 'skip', got {on_error!r}")
        if num_clips < 1 or (train and num_clips != 1):
            raise ValueError(f"num_clips must be >= 1 (and 1 for training), got {num_clips}")
        if len(videos) == 0:
            raise ValueError("the video list is empty")
        self.videos = videos
        self.records = videos.records
        self.classes = videos.classes
        self.num_frames, self.train, self.num_clips = num_frames, train, num_clips
        self.decoder_name = decoder
        self.decoder = get_decoder(decoder)  # fails early on an unknown name
        self.transform = transform
        self.on_error, self.max_retries = on_error, max_retries

    def __len__(self) -> int:
        return len(self.records)

    def _indices(self, n: int) -> list[int]:
        idx: list[int] = []
        for k in range(self.num_clips):
            idx += uniform_sample_indices(n, self.num_frames, self.train, k, self.num_clips)
        return idx

    def load(self, index: int) -> dict[str, Any]:
        """Decodes video ``index`` (raises VideoDecodeError) and applies the transform."""
        rec = self.records[index]
        frames = self.decoder(rec.path, self._indices)  # K*T, H, W, 3
        video = thwc_to_cthw(frames)  # C, K*T, H, W
        sample = {"video": video, "label": rec.label, "video_name": rec.path, "video_index": index}
        if self.num_clips > 1:
            clips = video.split(self.num_frames, dim=1)
            outs = [self.transform({**sample, "video": c})["video"] if self.transform else c for c in clips]
            # K clips of (crops, C, T, H, W) or (C, T, H, W) -> one batch of views
            return {**sample, "video": torch.cat([o if o.ndim == 5 else o[None] for o in outs])}
        return self.transform(sample) if self.transform else sample

    def __getitem__(self, index: int) -> dict[str, Any]:
        skipped: list[str] = []
        for _ in range(self.max_retries + 1):
            try:
                return {**self.load(index), "skipped": skipped}
            except VideoDecodeError as e:
                logger.warning("skipping video: %s", e)
                skipped.append(e.path)
                if self.on_error == "skip":
                    return {
                        "video": None,
                        "label": self.records[index].label,
                        "video_name": e.path,
                        "video_index": index,
                        "skipped": skipped,
                    }
                index = int(torch.randint(len(self.records), (1,)))
        raise RuntimeError(
            f"{len(skipped)} videos in a row could not be decoded (e.g. {skipped[:3]}); check the dataset "
            f"paths and the decoder ({self.decoder_name!r}; the other one is "
            f"{'pyav' if self.decoder_name == 'decord' else 'decord'})"
        )


def collate_videos(samples: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Batches samples, dropping those without a video (unreadable, ``on_error="skip"``).

    Returns ``video`` (None when all were dropped), ``label`` ``(B,)``, ``video_name``, ``video_index``
    and ``skipped`` (the names of every unreadable video met while building this batch)."""
    skipped = [name for s in samples for name in s.get("skipped", [])]
    good = [{k: v for k, v in s.items() if k != "skipped"} for s in samples if s.get("video") is not None]
    if not good:
        return {
            "video": None,
            "label": torch.empty(0, dtype=torch.long),
            "video_name": [],
            "video_index": [],
            "skipped": skipped,
        }
    batch = default_collate(good)
    batch["video_index"] = batch["video_index"].tolist()
    batch["skipped"] = skipped
    return batch
