"""Video decoding by frame index, with decord or PyAV behind one small interface.

Both return the requested frames as ``uint8`` RGB ``(T, H, W, 3)`` in the order asked (repeats
allowed). Failures (missing file, unreadable or empty stream) raise :class:`VideoDecodeError` with
the path and the reason, so datasets can skip the video and count it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

IndexFn = Callable[[int], Sequence[int]]  # number of frames -> indices to decode


class VideoDecodeError(RuntimeError):
    """A video could not be decoded; ``path`` and ``reason`` say which and why."""

    def __init__(self, path: str | Path, reason: str):
        super().__init__(f"cannot decode {path}: {reason}")
        self.path = str(path)
        self.reason = reason


class Decoder(Protocol):
    name: str

    def __call__(self, path: str | Path, indices: IndexFn) -> torch.Tensor: ...


def _check_file(path: str | Path) -> None:
    p = Path(path)
    if not p.is_file():
        raise VideoDecodeError(path, "file does not exist")
    if p.stat().st_size == 0:
        raise VideoDecodeError(path, "file is empty")


def _check_indices(path: str | Path, idx: Sequence[int], n: int) -> list[int]:
    idx = list(idx)
    if not idx or min(idx) < 0 or max(idx) >= n:
        raise VideoDecodeError(path, f"frame indices {idx} out of range for {n} frames")
    return idx


class DecordDecoder:
    """decord's ``VideoReader`` (seeks by frame index; fast on long videos).

    decord 0.6 cannot copy frames narrower than 32 pixels (its buffer assumes aligned rows: "Check
    failed: from_size == to_size"), and fails on some streams FFmpeg itself reads. With ``fallback``
    (default) such videos are decoded with PyAV instead; a video both reject raises with both reasons.
    """

    name = "decord"

    def __init__(self, num_threads: int = 1, fallback: bool = True):
        self.num_threads = num_threads
        self.fallback = fallback

    def __call__(self, path: str | Path, indices: IndexFn) -> torch.Tensor:
        _check_file(path)
        try:
            return self._decode(path, indices)
        except VideoDecodeError as e:
            if not self.fallback:
                raise
            try:
                return PyAVDecoder()(path, indices)
            except VideoDecodeError as e2:
                raise VideoDecodeError(path, f"{e.reason}; {e2.reason}") from e2

    def _decode(self, path: str | Path, indices: IndexFn) -> torch.Tensor:
        import decord  # optional dependency

        try:
            vr = decord.VideoReader(str(path), ctx=decord.cpu(0), num_threads=self.num_threads)
            n = len(vr)
            if n == 0:
                raise VideoDecodeError(path, "no video frames")
            idx = _check_indices(path, indices(n), n)
            frames = vr.get_batch(idx).asnumpy()  # T, H, W, 3
        except VideoDecodeError:
            raise
        except Exception as e:  # decord raises DECORDError / RuntimeError with ffmpeg's message
            msg = str(e).strip().splitlines()
            raise VideoDecodeError(path, f"decord: {type(e).__name__}: {msg[-1][:200] if msg else ''}") from e
        return torch.from_numpy(np.ascontiguousarray(frames))


class PyAVDecoder:
    """PyAV (FFmpeg) decoding in one sequential pass that keeps only the wanted frames.

    The frame count comes from the container (``stream.frames``); when it is missing or wrong, the
    video is decoded fully to count, and the indices are recomputed for the true length.
    """

    name = "pyav"

    def __call__(self, path: str | Path, indices: IndexFn) -> torch.Tensor:
        import av  # optional dependency

        _check_file(path)
        try:
            with av.open(str(path)) as container:
                if not container.streams.video:
                    raise VideoDecodeError(path, "no video stream")
                n = container.streams.video[0].frames
                if n > 0:
                    idx = _check_indices(path, indices(n), n)
                    got = self._decode(container, set(idx), max(idx))
                    if len(got) == len(set(idx)):
                        return torch.from_numpy(np.stack([got[i] for i in idx]))
            # unknown or wrong frame count in the header: decode everything once
            with av.open(str(path)) as container:
                got = self._decode(container, None, None)
            n = len(got)
            if n == 0:
                raise VideoDecodeError(path, "no decodable video frames")
            idx = _check_indices(path, indices(n), n)
            return torch.from_numpy(np.stack([got[i] for i in idx]))
        except VideoDecodeError:
            raise
        except Exception as e:  # av.error.InvalidDataError, EOFError, ...
            raise VideoDecodeError(path, f"PyAV: {type(e).__name__}: {str(e).splitlines()[0][:200]}") from e

    @staticmethod
    def _decode(container, wanted: set[int] | None, last: int | None) -> dict[int, np.ndarray]:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        got = {}
        for i, frame in enumerate(container.decode(stream)):
            if wanted is None or i in wanted:
                got[i] = frame.to_ndarray(format="rgb24")
            if last is not None and i >= last:
                break
        return got


DECODERS: dict[str, Callable[[], Decoder]] = {"decord": DecordDecoder, "pyav": PyAVDecoder}


def get_decoder(name: str) -> Decoder:
    """``"decord"`` or ``"pyav"``; anything else is a ValueError listing the choices."""
    if name not in DECODERS:
        raise ValueError(f"unknown video decoder {name!r}; choose one of {sorted(DECODERS)}")
    return DECODERS[name]()
