"""Video data: layouts (Kinetics-400, SSv2), frame sampling, decoding, transforms, mixing, synthetic data."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .dataset import VideoClipDataset, collate_videos
from .decoders import DECODERS, VideoDecodeError, get_decoder
from .layouts import (
    VideoList,
    VideoRecord,
    clip_name,
    kinetics,
    kinetics_from_annotations,
    read_classes,
    ssv2,
)
from .presets import ApplyToKey, EvalClip, TrainClip, eval_transform, train_transform
from .sampling import uniform_sample_indices


def kinetics_dataset(
    source: str | Path,
    video_root: str | Path | None = None,
    classes: str | Path | Sequence[str] | None = None,
    num_classes: int | None = None,
    train: bool = True,
    num_frames: int = 8,
    num_clips: int = 1,
    decoder: str = "decord",
    transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    missing_list: str | Path | None = None,
    on_missing: str = "skip",
) -> VideoClipDataset:
    """Kinetics-400 as a clip dataset, from the released annotation CSV, a list file or class folders
    (see :mod:`video.data.layouts`). Clips the released CSV lists but the disk lacks are counted and
    reported once here, before training (one log line; their rows written to ``missing_list`` when
    given), and left out -- or, with ``on_missing="error"``, refused. Training resamples unreadable
    videos, testing skips them (both warn and count)."""
    videos = kinetics(source, video_root, classes, num_classes, missing_list, on_missing)
    return VideoClipDataset(
        videos, num_frames, train, num_clips, decoder, transform, on_error="resample" if train else "skip"
    )


def ssv2_dataset(
    annotation_dir: str | Path,
    split: str = "train",
    video_root: str | Path | None = None,
    extension: str = ".webm",
    train: bool = True,
    num_frames: int = 8,
    num_clips: int = 1,
    decoder: str = "decord",
    transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> VideoClipDataset:
    """Something-Something-v2 as released (labels.json + train/validation.json) as a clip dataset.
    Use ``flip_prob=0`` in its training transform: its labels say left/right."""
    videos = ssv2(annotation_dir, split, video_root, extension)
    return VideoClipDataset(
        videos, num_frames, train, num_clips, decoder, transform, on_error="resample" if train else "skip"
    )


def motion_dataset(
    root: str | Path = "datasets/motion",
    split: str = "train",
    train_per_class: int = 64,
    val_per_class: int = 16,
    size: int = 32,
    video_frames: int = 16,
    num_frames: int = 8,
    decoder: str = "decord",
    transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    num_clips: int = 1,
) -> VideoClipDataset:
    """The synthetic motion-direction dataset (K400 CSV layout; videos of ``video_frames`` frames of
    ``size x size``), generated on first use (:mod:`video.data.synthetic`)."""
    from .synthetic import ensure_motion_dataset

    if split not in ("train", "val"):
        raise ValueError(f"split must be 'train' or 'val', got {split!r}")
    ds = ensure_motion_dataset(
        root, train_per_class=train_per_class, val_per_class=val_per_class, num_frames=video_frames, size=size
    )
    return kinetics_dataset(
        ds.train_csv if split == "train" else ds.val_csv,
        classes=ds.classes_file,
        train=split == "train",
        num_frames=num_frames,
        num_clips=num_clips,
        decoder=decoder,
        transform=transform,
    )


__all__ = [
    "motion_dataset",
    "DECODERS",
    "ApplyToKey",
    "EvalClip",
    "TrainClip",
    "VideoClipDataset",
    "VideoDecodeError",
    "VideoList",
    "VideoRecord",
    "clip_name",
    "collate_videos",
    "get_decoder",
    "kinetics",
    "kinetics_dataset",
    "kinetics_from_annotations",
    "read_classes",
    "ssv2",
    "ssv2_dataset",
    "eval_transform",
    "train_transform",
    "uniform_sample_indices",
]
