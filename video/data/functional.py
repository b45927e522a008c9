"""Pure video transforms on one clip ``(C, T, H, W)`` (pytorchvideo's convention).

Randomness comes from torch's global RNG (seeded per DataLoader worker) or an explicit ``generator``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def to_float(video: torch.Tensor) -> torch.Tensor:
    """uint8 ``(C, T, H, W)`` in [0, 255] -> float32 in [0, 1]."""
    return video.float().div_(255.0) if video.dtype == torch.uint8 else video.float()


def thwc_to_cthw(frames: torch.Tensor) -> torch.Tensor:
    """Decoder output ``(T, H, W, C)`` -> ``(C, T, H, W)``."""
    return frames.permute(3, 0, 1, 2).contiguous()


def normalize(video: torch.Tensor, mean=IMAGENET_MEAN, std=IMAGENET_STD) -> torch.Tensor:
    """Per-channel ``(x - mean) / std`` on ``(C, T, H, W)``."""
    m = torch.as_tensor(mean, dtype=video.dtype).view(-1, 1, 1, 1)
    s = torch.as_tensor(std, dtype=video.dtype).view(-1, 1, 1, 1)
    return (video - m) / s


def short_side_scale(video: torch.Tensor, size: int) -> torch.Tensor:
    """Resizes ``(C, T, H, W)`` so the shorter side is ``size`` (aspect kept; bilinear, antialiased
    when shrinking). Tiny videos are scaled up the same way."""
    C, T, H, W = video.shape
    if H <= W:
        new_h, new_w = size, max(1, round(W * size / H))
    else:
        new_h, new_w = max(1, round(H * size / W)), size
    if (new_h, new_w) == (H, W):
        return video
    out = F.interpolate(
        video.transpose(0, 1), size=(new_h, new_w), mode="bilinear", align_corners=False, antialias=new_h < H
    )
    return out.transpose(0, 1)


def random_short_side_scale(
    video: torch.Tensor, min_size: int, max_size: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Shorter side to a size drawn uniformly from ``[min_size, max_size]`` (A.4: 256..320)."""
    size = int(torch.randint(min_size, max_size + 1, (1,), generator=generator))
    return short_side_scale(video, size)


def crop(video: torch.Tensor, top: int, left: int, height: int, width: int) -> torch.Tensor:
    return video[..., top : top + height, left : left + width]


def _check_crop(video: torch.Tensor, size: int) -> None:
    H, W = video.shape[-2:]
    if H < size or W < size:
        raise ValueError(
            f"cannot take a {size}x{size} crop from a {H}x{W} clip; scale its shorter side first"
        )


def random_crop(video: torch.Tensor, size: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """A ``size x size`` crop at a uniformly random position (same for every frame)."""
    _check_crop(video, size)
    H, W = video.shape[-2:]
    top = int(torch.randint(0, H - size + 1, (1,), generator=generator))
    left = int(torch.randint(0, W - size + 1, (1,), generator=generator))
    return crop(video, top, left, size, size)


def uniform_crop_offsets(height: int, width: int, size: int, index: int) -> tuple[int, int]:
    """``(top, left)`` of crop ``index`` of three along the longer side: 0 = left/top, 1 = centre,
    2 = right/bottom (SlowFast/pytorchvideo ``uniform_crop``; square clips: three crops on the diagonal
    would coincide in one axis, so the horizontal axis is used)."""
    if index not in (0, 1, 2):
        raise ValueError(f"crop index must be 0, 1 or 2, got {index}")
    top, left = (height - size + 1) // 2, (width - size + 1) // 2  # centre (ceil, as pytorchvideo)
    if height > width:
        top = {0: 0, 1: top, 2: height - size}[index]
    else:
        left = {0: 0, 1: left, 2: width - size}[index]
    return top, left


def uniform_crop(video: torch.Tensor, size: int, index: int) -> torch.Tensor:
    """Crop ``index`` (0, 1, 2) of :func:`uniform_crop_offsets`."""
    _check_crop(video, size)
    top, left = uniform_crop_offsets(*video.shape[-2:], size, index)
    return crop(video, top, left, size, size)


def three_crop(video: torch.Tensor, size: int) -> torch.Tensor:
    """``(C, T, H, W)`` -> ``(3, C, T, size, size)``: left/top, centre, right/bottom crops."""
    return torch.stack([uniform_crop(video, size, i) for i in range(3)])


def horizontal_flip(video: torch.Tensor) -> torch.Tensor:
    return video.flip(-1)


def random_horizontal_flip(
    video: torch.Tensor, p: float = 0.5, generator: torch.Generator | None = None
) -> torch.Tensor:
    return horizontal_flip(video) if float(torch.rand(1, generator=generator)) < p else video
