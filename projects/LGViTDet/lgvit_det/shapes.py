"""A small synthetic COCO-format dataset, so every detector can train and be evaluated without COCO.

Two kinds of split, drawn deterministically from a seed in about a second:

* ``instances``: coloured circles, squares (rotated) and triangles on a noisy gradient background, with
  boxes and polygon masks (three classes);
* ``keypoints``: stick figures ("person") with five named keypoints (head, hands, feet), a
  left/right flip map and OKS sigmas, boxes and a polygon outline.

Image sizes vary (most not multiples of 32); every split also holds a grayscale image, an image
without annotations and a mix of PNG and JPEG files; validation splits add a tiny image (56x40).
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

__all__ = [
    "KEYPOINT_CONNECTION_RULES",
    "KEYPOINT_FLIP_MAP",
    "KEYPOINT_NAMES",
    "KEYPOINT_OKS_SIGMAS",
    "OBJECT_CLASSES",
    "SplitSpec",
    "write_split",
]

OBJECT_CLASSES = ("circle", "square", "triangle")
# "left" is the figure's own left, drawn on the image's right (it faces the viewer), as in COCO.
KEYPOINT_NAMES = ("head", "left_hand", "right_hand", "left_foot", "right_foot")
KEYPOINT_FLIP_MAP = (("left_hand", "right_hand"), ("left_foot", "right_foot"))
KEYPOINT_CONNECTION_RULES = (
    ("head", "left_hand", (102, 204, 255)),
    ("head", "right_hand", (51, 153, 255)),
    ("head", "left_foot", (102, 0, 204)),
    ("head", "right_foot", (51, 102, 255)),
)
# COCO's sigmas for the nose, wrists and ankles: the OKS tolerance of each keypoint.
KEYPOINT_OKS_SIGMAS = (0.026, 0.062, 0.062, 0.089, 0.089)
FORMAT_VERSION = 1  # bump when the drawing changes: cached splits are regenerated


@dataclass(frozen=True)
class SplitSpec:
    """One split: ``kind`` is "instances" or "keypoints"; ``tiny`` adds a 56x40 image."""

    kind: str
    num_images: int
    seed: int
    min_side: int = 160
    max_side: int = 352
    tiny: bool = False


# ---------------------------------------------------------------------------------------- drawing


def _background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A smooth random gradient plus mild noise, ``(h, w, 3)`` uint8, kept mid-grey so shapes stand out."""
    c0, c1 = rng.uniform(70, 150, size=(2, 3))
    t = np.linspace(0, 1, w)[None, :, None] if rng.random() < 0.5 else np.linspace(0, 1, h)[:, None, None]
    img = c0 + (c1 - c0) * t + rng.normal(0, 8, size=(h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def _bright_colour(rng: np.random.Generator) -> tuple[int, int, int]:
    """A saturated, bright colour (random hue): always far from the muted background."""
    h, s, v = rng.uniform(0, 1), rng.uniform(0.75, 1.0), rng.uniform(0.85, 1.0)
    k = (np.array([5.0, 3.0, 1.0]) + h * 6) % 6
    rgb = v - v * s * np.clip(np.minimum(k, 4 - k), 0, 1)
    return tuple(int(round(255 * c)) for c in rgb)


def _shape_polygon(kind: str, cx: float, cy: float, r: float, angle: float) -> list[tuple[float, float]]:
    if kind == "circle":
        n, a0 = 24, 0.0
    elif kind == "square":
        n, a0 = 4, angle
    else:
        n, a0 = 3, angle
    return [
        (cx + r * math.cos(a0 + 2 * math.pi * k / n), cy + r * math.sin(a0 + 2 * math.pi * k / n))
        for k in range(n)
    ]


def _disjoint(box: tuple[float, ...], boxes: list[tuple[float, ...]], gap: float = 4.0) -> bool:
    x0, y0, x1, y1 = box
    return all(x1 + gap < b[0] or b[2] + gap < x0 or y1 + gap < b[1] or b[3] + gap < y0 for b in boxes)


def _draw_instances(rng: np.random.Generator, img: Image.Image, count: int) -> list[dict]:
    """Draws up to ``count`` non-overlapping shapes; returns COCO annotations without ids."""
    draw = ImageDraw.Draw(img)
    w, h = img.size
    anns, boxes = [], []
    for _ in range(count * 20):
        if len(anns) == count:
            break
        r = rng.uniform(0.09, 0.22) * min(w, h)
        cx, cy = rng.uniform(r + 2, w - r - 2), rng.uniform(r + 2, h - r - 2)
        cls = int(rng.integers(len(OBJECT_CLASSES)))
        poly = _shape_polygon(OBJECT_CLASSES[cls], cx, cy, r, rng.uniform(0, math.pi))
        xs, ys = [p[0] for p in poly], [p[1] for p in poly]
        box = (min(xs), min(ys), max(xs), max(ys))
        if not _disjoint(box, boxes):
            continue
        draw.polygon(poly, fill=_bright_colour(rng))
        boxes.append(box)
        anns.append(
            dict(
                category_id=cls + 1,
                bbox=[box[0], box[1], box[2] - box[0], box[3] - box[1]],
                area=_polygon_area(poly),
                iscrowd=0,
                segmentation=[[round(v, 2) for p in poly for v in p]],
            )
        )
    return anns


def _polygon_area(poly: list[tuple[float, float]]) -> float:
    return 0.5 * abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(poly, poly[1:] + poly[:1])))


def _draw_figures(rng: np.random.Generator, img: Image.Image, count: int) -> list[dict]:
    """Draws up to ``count`` stick figures; returns COCO keypoint annotations without ids."""
    draw = ImageDraw.Draw(img)
    w, h = img.size
    anns, boxes = [], []
    for _ in range(count * 20):
        if len(anns) == count:
            break
        s = rng.uniform(0.35, 0.7) * min(w, h)  # figure height
        hx, hy = rng.uniform(0.3 * s, w - 0.3 * s), rng.uniform(0.1 * s, h - 0.9 * s)
        hip = (hx + rng.uniform(-0.05, 0.05) * s, hy + 0.5 * s)
        neck = (hx, hy + 0.12 * s)
        arm = 0.3 * s
        la, ra = rng.uniform(-1.2, 0.9), rng.uniform(-1.2, 0.9)  # angles below horizontal
        left_hand = (neck[0] + arm * math.cos(la), neck[1] + arm * math.sin(la))
        right_hand = (neck[0] - arm * math.cos(ra), neck[1] + arm * math.sin(ra))
        leg = 0.42 * s
        ll, rl = rng.uniform(0.2, 0.6), rng.uniform(0.2, 0.6)  # angles from vertical
        left_foot = (hip[0] + leg * math.sin(ll), hip[1] + leg * math.cos(ll))
        right_foot = (hip[0] - leg * math.sin(rl), hip[1] + leg * math.cos(rl))
        head_r = 0.08 * s
        pts = [(hx, hy), left_hand, right_hand, left_foot, right_foot]
        xs = [p[0] for p in pts] + [hx - head_r, hx + head_r]
        ys = [p[1] for p in pts] + [hy - head_r]
        box = (min(xs) - 2, min(ys) - 2, max(xs) + 2, max(ys) + 2)
        if box[0] < 0 or box[1] < 0 or box[2] > w or box[3] > h or not _disjoint(box, boxes):
            continue
        colour, width = _bright_colour(rng), max(3, int(0.05 * s))
        draw.line([neck, hip], fill=colour, width=width)
        for a, b in ((neck, left_hand), (neck, right_hand), (hip, left_foot), (hip, right_foot)):
            draw.line([a, b], fill=colour, width=width)
        draw.ellipse([hx - head_r, hy - head_r, hx + head_r, hy + head_r], fill=colour)
        boxes.append(box)
        outline = [(box[0], box[1]), (box[2], box[1]), (box[2], box[3]), (box[0], box[3])]
        anns.append(
            dict(
                category_id=1,
                bbox=[box[0], box[1], box[2] - box[0], box[3] - box[1]],
                area=_polygon_area(outline),
                iscrowd=0,
                segmentation=[[round(v, 2) for p in outline for v in p]],
                keypoints=[round(v, 2) if i % 3 < 2 else 2 for p in pts for i, v in enumerate((*p, 2))],
                num_keypoints=len(pts),
            )
        )
    return anns


# ------------------------------------------------------------------------------------------- split


def _categories(kind: str) -> list[dict]:
    if kind == "instances":
        return [dict(id=i + 1, name=n, supercategory="shape") for i, n in enumerate(OBJECT_CLASSES)]
    skeleton = [
        [KEYPOINT_NAMES.index(a) + 1, KEYPOINT_NAMES.index(b) + 1] for a, b, _ in KEYPOINT_CONNECTION_RULES
    ]
    return [
        dict(id=1, name="person", supercategory="person", keypoints=list(KEYPOINT_NAMES), skeleton=skeleton)
    ]


def _image_sizes(rng: np.random.Generator, spec: SplitSpec) -> list[tuple[int, int]]:
    sizes = [
        tuple(int(v) for v in rng.integers(spec.min_side, spec.max_side + 1, size=2))
        for _ in range(spec.num_images)
    ]
    if spec.tiny:
        sizes[-1] = (56, 40)  # (height, width): far below one 32-pixel stride step
    return sizes


def _build(spec: SplitSpec, image_dir: Path) -> dict:
    rng = np.random.default_rng(spec.seed)
    images, annotations = [], []
    for i, (h, w) in enumerate(_image_sizes(rng, spec)):
        img = Image.fromarray(_background(rng, h, w))
        empty = i == 1  # one image without annotations (background only)
        tiny = spec.tiny and i == spec.num_images - 1
        count = 0 if empty else 1 if tiny else int(rng.integers(1, 4))
        draw = _draw_instances if spec.kind == "instances" else _draw_figures
        anns = draw(rng, img, count) if count else []
        if i == 2:
            img = img.convert("L")  # one grayscale image; the loader converts it to RGB
        name = f"{i:04d}.{'jpg' if i % 3 == 0 else 'png'}"
        img.save(image_dir / name, quality=95) if name.endswith("jpg") else img.save(image_dir / name)
        images.append(dict(id=i + 1, file_name=name, height=h, width=w))
        for a in anns:
            annotations.append(dict(id=len(annotations) + 1, image_id=i + 1, **a))
    return dict(
        info=dict(description=f"lgvit synthetic {spec.kind} (seed {spec.seed})", version=FORMAT_VERSION),
        images=images,
        annotations=annotations,
        categories=_categories(spec.kind),
    )


def _is_current(json_file: Path, image_root: Path, stamp: dict) -> bool:
    if not (json_file.exists() and image_root.is_dir()):
        return False
    try:
        return json.loads(json_file.read_text()).get("lgvit_spec") == stamp
    except (OSError, ValueError):
        return False  # unreadable or half-written: regenerate


def write_split(root: str | os.PathLike, name: str, spec: SplitSpec) -> tuple[Path, Path]:
    """Writes ``root/name/`` (images) and ``root/name.json`` unless an identical split is there already.

    Safe when several processes ask at once (DDP workers, parallel tests): a file lock serialises them
    and the first one writes; the files appear by rename, never half-written. Returns
    ``(json_file, image_root)``.
    """
    root = Path(root)
    json_file, image_root = root / f"{name}.json", root / name
    stamp = dict(spec=spec.__dict__, version=FORMAT_VERSION)
    if _is_current(json_file, image_root, stamp):
        return json_file, image_root
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OSError(
            f"cannot create the synthetic dataset directory {root}: {e}; set LGVIT_SHAPES_DIR "
            "to a writable directory"
        ) from e
    with open(root / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _is_current(json_file, image_root, stamp):
            tmp = root / f".{name}.tmp-{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            (tmp / name).mkdir(parents=True)
            data = _build(spec, tmp / name)
            data["lgvit_spec"] = stamp
            (tmp / f"{name}.json").write_text(json.dumps(data))
            shutil.rmtree(image_root, ignore_errors=True)
            os.replace(tmp / name, image_root)
            os.replace(tmp / f"{name}.json", json_file)
            shutil.rmtree(tmp, ignore_errors=True)
    return json_file, image_root
