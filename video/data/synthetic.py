"""A motion-direction dataset of real encoded videos, in the Kinetics-400 layouts.

Each clip shows one bright square moving left, right, up or down over a dark plain background.
Square and background tints, square size, speed and start are random with the *same* distribution for every
class, and the start is drawn so that the set of positions a square visits is distributed alike for
opposite directions (a left-moving clip played backwards is a right-moving clip). So no single frame,
and no order-free pooling of frames, carries the label: only the direction of motion does.

Layout written by :func:`make_motion_dataset` (both K400 layouts at once)::

    root/classes.txt                    one class name per line (index = line number)
    root/train.csv, root/val.csv        "<path relative to root> <label index>" per line
    root/train/<class>/<id>.mp4, root/val/<class>/<id>.mp4
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

CLASSES = ("move_down", "move_left", "move_right", "move_up")  # sorted: folder order = CSV index
_DIRECTION = {"move_down": (0, 1), "move_left": (-1, 0), "move_right": (1, 0), "move_up": (0, -1)}


def pick_codec() -> str:
    """H.264 (libx264) when the av wheel has it, else MPEG-4 part 2 (always built into FFmpeg)."""
    import av

    return "libx264" if "libx264" in av.codecs_available else "mpeg4"


def render_motion_clip(direction: str, num_frames: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """``(T, size, size, 3)`` uint8 frames of a square moving in ``direction`` (one of CLASSES)."""
    if direction not in _DIRECTION:
        raise ValueError(f"unknown direction {direction!r}; choose from {CLASSES}")
    dx, dy = _DIRECTION[direction]
    side = int(rng.integers(size // 6, size // 4 + 1))
    travel = int(rng.integers(size // 2, size - side + 1))  # pixels covered over the clip
    # start so that the square stays inside and its path is symmetric in distribution across directions
    lo = int(rng.integers(0, size - side - travel + 1))  # path's low end along the motion axis
    other = int(rng.integers(0, size - side + 1))  # fixed coordinate on the other axis
    # a bright square on a dark background (random tints): a consistent contrast sign keeps the task
    # about motion, not about telling the square from the background
    bg = rng.integers(0, 90, 3)
    fg = rng.integers(170, 256, 3)
    frames = np.empty((num_frames, size, size, 3), dtype=np.uint8)
    frames[:] = bg.astype(np.uint8)
    for t in range(num_frames):
        s = round(travel * t / max(num_frames - 1, 1))
        along = lo + s if dx + dy > 0 else lo + travel - s
        x, y = (along, other) if dx else (other, along)
        frames[t, y : y + side, x : x + side] = fg.astype(np.uint8)
    return frames


def write_video(path: str | Path, frames: np.ndarray, fps: int = 8, codec: str | None = None) -> str:
    """Encodes ``(T, H, W, 3)`` uint8 RGB frames to ``path`` with PyAV; returns the codec used.

    H.264 needs even sizes; odd ones are padded by one pixel of edge replication."""
    import av

    codec = codec or pick_codec()
    T, H, W, _ = frames.shape
    if H % 2 or W % 2:
        frames = np.pad(frames, ((0, 0), (0, H % 2), (0, W % 2), (0, 0)), mode="edge")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv420p"
        if codec == "libx264":
            stream.options = {"crf": "10", "preset": "ultrafast"}
        else:
            stream.bit_rate = 2_000_000
        for img in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return codec


def write_corrupt_video(path: str | Path, kind: str = "garbage", source: str | Path | None = None) -> Path:
    """Writes a broken ``.mp4`` for tests: ``garbage`` (random bytes), ``truncated`` (the first third of
    ``source``), or ``empty`` (0 bytes)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "garbage":
        path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    elif kind == "truncated":
        if source is None:
            raise ValueError("kind='truncated' needs a source video to cut")
        data = Path(source).read_bytes()
        path.write_bytes(data[: len(data) // 3])
    elif kind == "empty":
        path.write_bytes(b"")
    else:
        raise ValueError(f"unknown corruption kind {kind!r}; choose garbage, truncated or empty")
    return path


@dataclass(frozen=True)
class MotionDataset:
    """Where :func:`make_motion_dataset` wrote things."""

    root: Path
    train_csv: Path
    val_csv: Path
    classes_file: Path
    codec: str
    num_train: int
    num_val: int


def make_motion_dataset(
    root: str | Path,
    train_per_class: int = 64,
    val_per_class: int = 16,
    num_frames: int = 16,
    size: int = 32,
    fps: int = 8,
    seed: int = 0,
    codec: str | None = None,
) -> MotionDataset:
    """Writes the motion-direction dataset (4 classes) under ``root``; see the module docstring."""
    root = Path(root)
    if size < 16:
        raise ValueError(f"size must be >= 16 pixels for a visible moving square, got {size}")
    codec = codec or pick_codec()
    rng = np.random.default_rng(seed)
    (root / "classes.txt").parent.mkdir(parents=True, exist_ok=True)
    (root / "classes.txt").write_text("\n".join(CLASSES) + "\n")
    counts = {}
    for split, per_class in (("train", train_per_class), ("val", val_per_class)):
        lines = []
        for label, name in enumerate(CLASSES):
            for i in range(per_class):
                rel = Path(split) / name / f"{split}_{name}_{i:04d}.mp4"
                write_video(root / rel, render_motion_clip(name, num_frames, size, rng), fps=fps, codec=codec)
                lines.append(f"{rel.as_posix()} {label}")
        (root / f"{split}.csv").write_text("\n".join(lines) + "\n")
        counts[split] = len(lines)
    return MotionDataset(
        root,
        root / "train.csv",
        root / "val.csv",
        root / "classes.txt",
        codec,
        counts["train"],
        counts["val"],
    )


def ensure_motion_dataset(root: str | Path, **kwargs) -> MotionDataset:
    """:func:`make_motion_dataset` unless ``root`` already holds one. Writes into a temporary sibling
    folder and renames it, so concurrent processes (DDP ranks) never see a half-written dataset."""
    import os
    import shutil
    import tempfile

    root = Path(root)
    if not (root / "val.csv").is_file():
        root.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}-", dir=root.parent))
        try:
            make_motion_dataset(tmp, **kwargs)
            if not root.exists():
                os.replace(tmp, root)  # atomic; another process may have won the race (then ours is dropped)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if not (root / "val.csv").is_file():
        raise RuntimeError(
            f"{root} exists but holds no motion dataset (no val.csv); remove it or pick another root"
        )
    n = {s: len((root / f"{s}.csv").read_text().split()) // 2 for s in ("train", "val")}
    return MotionDataset(
        root, root / "train.csv", root / "val.csv", root / "classes.txt", "", n["train"], n["val"]
    )
