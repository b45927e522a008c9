"""Semantic-segmentation data: a synthetic dataset, registration, checked loading and a checking mapper.

``import lgvit_det`` registers the synthetic splits (generated on first use, deterministic, ~1 s):

================== ====== ===============================================================================
name               images notes
================== ====== ===============================================================================
seg_shapes_train   64     background + circle / square / triangle label maps, shape outlines ignored (255)
seg_shapes_val     16     the same, other seed
================== ====== ===============================================================================

Images are PNG/JPEG of varied sizes (``root/<split>/images``), label maps single-channel PNGs of the same
name (``root/<split>/labels``); the root is :func:`lgvit_det.datasets.shapes_root`. Each class has its
shape and its own band of bright hues (reds, greens, blues; saturation and brightness vary), so that a
tiny model learns it within a CPU minute.

ADE20K comes from Detectron2's own registration (``ade20k_sem_seg_train`` / ``ade20k_sem_seg_val`` under
``$DETECTRON2_DATASETS/ADEChallengeData2016``, 150 classes, ignore label 255, labels converted by
Detectron2's ``datasets/prepare_ade20k_sem_seg.py`` into ``annotations_detectron2``).
:func:`checked_sem_seg_dicts` and :class:`SemSegMapper` turn bad data into messages naming the file.
"""

from __future__ import annotations

import copy
import fcntl
import json
import math
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from detectron2.data import DatasetCatalog, MetadataCatalog, get_detection_dataset_dicts
from detectron2.data import detection_utils as utils
from detectron2.data import transforms as T
from PIL import Image, ImageDraw

from .checks import read_image
from .datasets import shapes_root
from .shapes import _background, _disjoint, _shape_polygon

__all__ = [
    "SEG_CLASSES",
    "SEG_COLORS",
    "SEG_SPLITS",
    "SemSegMapper",
    "SegSplitSpec",
    "checked_sem_seg_dicts",
    "read_label_map",
    "register_seg_shapes",
    "write_seg_split",
]

SEG_CLASSES = ("background", "circle", "square", "triangle")
SEG_COLORS = ((90, 90, 90), (230, 60, 60), (60, 200, 80), (60, 110, 240))  # as the hue bands
IGNORE_LABEL = 255
SEG_FORMAT_VERSION = 2  # bump when the drawing changes: cached splits are regenerated


@dataclass(frozen=True)
class SegSplitSpec:
    num_images: int
    seed: int
    min_side: int = 128
    max_side: int = 224


SEG_SPLITS: dict[str, SegSplitSpec] = {
    "seg_shapes_train": SegSplitSpec(64, seed=11),
    "seg_shapes_val": SegSplitSpec(16, seed=12),
}

# ------------------------------------------------------------------------------------------ writing

# hue band (fraction of the colour circle) per shape class
CLASS_HUES = {1: (-0.06, 0.06), 2: (0.28, 0.40), 3: (0.56, 0.68)}


def _class_colour(rng: np.random.Generator, cls: int) -> tuple[int, int, int]:
    """A saturated, bright colour in ``cls``'s hue band: always far from the muted background."""
    h, s, v = rng.uniform(*CLASS_HUES[cls]) % 1.0, rng.uniform(0.75, 1.0), rng.uniform(0.85, 1.0)
    k = (np.array([5.0, 3.0, 1.0]) + h * 6) % 6
    rgb = v - v * s * np.clip(np.minimum(k, 4 - k), 0, 1)
    return tuple(int(round(255 * c)) for c in rgb)


def _draw(rng: np.random.Generator, h: int, w: int) -> tuple[Image.Image, np.ndarray]:
    """One image ``(h, w)`` RGB and its label map (uint8: 0 background, 1..3 shapes, 255 outlines)."""
    img = Image.fromarray(_background(rng, h, w))
    label = Image.new("L", (w, h), 0)
    draw, ldraw = ImageDraw.Draw(img), ImageDraw.Draw(label)
    boxes: list[tuple[float, ...]] = []
    count = int(rng.integers(2, 5))
    for _ in range(count * 20):
        if len(boxes) == count:
            break
        r = rng.uniform(0.12, 0.28) * min(w, h)
        cx, cy = rng.uniform(r + 2, w - r - 2), rng.uniform(r + 2, h - r - 2)
        cls = int(rng.integers(1, len(SEG_CLASSES)))
        poly = _shape_polygon(SEG_CLASSES[cls], cx, cy, r, rng.uniform(0, math.pi))
        xs, ys = [p[0] for p in poly], [p[1] for p in poly]
        box = (min(xs), min(ys), max(xs), max(ys))
        if not _disjoint(box, boxes):
            continue
        draw.polygon(poly, fill=_class_colour(rng, cls))
        ldraw.polygon(poly, fill=cls, outline=IGNORE_LABEL)  # anti-aliasing-free edge: ignored
        boxes.append(box)
    return img, np.asarray(label)


def _is_current(index: Path, stamp: dict) -> bool:
    try:
        return json.loads(index.read_text()).get("lgvit_spec") == stamp
    except (OSError, ValueError):
        return False


def write_seg_split(root: str | os.PathLike, name: str, spec: SegSplitSpec) -> Path:
    """Writes ``root/name/{images,labels}/`` and ``root/name/index.json`` unless an identical split is there
    (file lock + rename: safe with parallel workers). Returns ``root/name``."""
    root = Path(root)
    split_dir = root / name
    stamp = dict(spec=spec.__dict__, version=SEG_FORMAT_VERSION)
    if _is_current(split_dir / "index.json", stamp):
        return split_dir
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OSError(f"cannot create {root}: {e}; set LGVIT_SHAPES_DIR to a writable directory") from e
    with open(root / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _is_current(split_dir / "index.json", stamp):
            tmp = root / f".{name}.tmp-{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            (tmp / "images").mkdir(parents=True)
            (tmp / "labels").mkdir()
            rng = np.random.default_rng(spec.seed)
            entries = []
            for i in range(spec.num_images):
                h, w = (int(v) for v in rng.integers(spec.min_side, spec.max_side + 1, size=2))
                img, label = _draw(rng, h, w)
                stem = f"{i:04d}"
                image_file = f"{stem}.{'jpg' if i % 3 == 0 else 'png'}"
                img.save(tmp / "images" / image_file, **({"quality": 95} if i % 3 == 0 else {}))
                Image.fromarray(label).save(tmp / "labels" / f"{stem}.png")
                entries.append(dict(image=image_file, label=f"{stem}.png", height=h, width=w))
            (tmp / "index.json").write_text(json.dumps(dict(lgvit_spec=stamp, images=entries)))
            shutil.rmtree(split_dir, ignore_errors=True)
            os.replace(tmp, split_dir)
    return split_dir


def load_seg_split(split_dir: str | os.PathLike) -> list[dict]:
    """Dataset dicts (``file_name``, ``sem_seg_file_name``, ``height``, ``width``, ``image_id``) of a split
    written by :func:`write_seg_split`; a missing image or label file is an error naming it."""
    split_dir = Path(split_dir)
    dicts = []
    for i, e in enumerate(json.loads((split_dir / "index.json").read_text(encoding="utf-8-sig"))["images"]):
        image, label = split_dir / "images" / e["image"], split_dir / "labels" / e["label"]
        for what, path in (("image", image), ("label map", label)):
            if not path.is_file():
                raise FileNotFoundError(f"{split_dir.name}: {what} file {path} is missing")
        dicts.append(
            dict(
                file_name=str(image),
                sem_seg_file_name=str(label),
                height=e["height"],
                width=e["width"],
                image_id=i,
            )
        )
    return dicts


def register_seg_shapes(root: str | os.PathLike | None = None) -> None:
    """(Re-)registers the synthetic segmentation splits under ``root`` (default: the shapes root)."""
    root = Path(root).resolve() if root is not None else shapes_root()
    for name, spec in SEG_SPLITS.items():
        if name in DatasetCatalog.list():
            DatasetCatalog.remove(name)
            MetadataCatalog.remove(name)

        def load(name: str = name, spec: SegSplitSpec = spec) -> list[dict]:
            return load_seg_split(write_seg_split(root, name, spec))

        DatasetCatalog.register(name, load)
        MetadataCatalog.get(name).set(
            stuff_classes=list(SEG_CLASSES),
            stuff_colors=[list(c) for c in SEG_COLORS],
            image_root=str(root / name / "images"),
            sem_seg_root=str(root / name / "labels"),
            evaluator_type="sem_seg",
            ignore_label=IGNORE_LABEL,
            lgvit_synthetic=True,
        )


# ------------------------------------------------------------------------------------------ loading


def _ensure(name: str) -> None:
    if name not in DatasetCatalog.list():
        known = ", ".join(sorted(n for n in DatasetCatalog.list() if "sem_seg" in n or n.startswith("seg_")))
        raise KeyError(f"dataset {name!r} is not registered; semantic-segmentation datasets include: {known}")
    meta = MetadataCatalog.get(name)
    if meta.get("lgvit_synthetic", False):
        return  # generated on load
    where = os.environ.get("DETECTRON2_DATASETS", "unset -> ./datasets")
    for what in ("image_root", "sem_seg_root"):
        path = meta.get(what, None)
        if path is not None and not Path(path).is_dir():
            hint = (
                " ADE20K: unpack ADEChallengeData2016 there and run Detectron2's "
                "datasets/prepare_ade20k_sem_seg.py (it writes annotations_detectron2/ with 0..149 + 255)."
                if "ADEChallengeData2016" in path
                else ""
            )
            raise FileNotFoundError(
                f"dataset {name!r}: {what} {path} does not exist (Detectron2 looks under "
                f"$DETECTRON2_DATASETS, "
                f"currently {where}).{hint} Or train on the synthetic data: configs/segmentation/*_shapes.py"
            )


def _check_labels_present(name: str, dicts: list[dict]) -> None:
    """Detectron2's ``load_sem_seg`` drops images without a label map with only a warning: refuse."""
    image_root = MetadataCatalog.get(name).get("image_root", None)
    if image_root is None or not Path(image_root).is_dir():
        return
    listed = {Path(d["file_name"]).name for d in dicts}
    ext = {Path(d["file_name"]).suffix for d in dicts} or {".jpg"}
    unlabelled = sorted(p for p in os.listdir(image_root) if Path(p).suffix in ext and p not in listed)
    if unlabelled:
        raise FileNotFoundError(
            f"dataset {name!r}: {len(unlabelled)} image(s) in {image_root} have no label map in "
            f"{MetadataCatalog.get(name).get('sem_seg_root', '?')}, e.g. {Path(image_root) / unlabelled[0]}"
        )


def checked_sem_seg_dicts(names: str | Sequence[str]) -> list[dict]:
    """Detectron2's ``get_detection_dataset_dicts`` for semantic segmentation, after checking that each
    dataset's directories exist and every image has its label map (messages name the path)."""
    names = [names] if isinstance(names, str) else list(names)
    for n in names:
        _ensure(n)
    dicts = get_detection_dataset_dicts(names, filter_empty=False)
    for n in names:
        if not MetadataCatalog.get(n).get("lgvit_synthetic", False):
            _check_labels_present(n, dicts)
    return dicts


def read_label_map(path: str, num_classes: int, ignore_label: int = IGNORE_LABEL) -> np.ndarray:
    """A single-channel label map ``(H, W)`` with values in ``0..num_classes-1`` or ``ignore_label``;
    anything else is an error naming the file."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"label map {path} does not exist")
    with Image.open(path) as im:
        label = np.asarray(im)
    if label.ndim != 2:
        raise ValueError(f"label map {path}: expected one channel of class indices, got shape {label.shape}")
    values = np.unique(label)
    bad = values[((values < 0) | (values >= num_classes)) & (values != ignore_label)]
    if bad.size:
        raise ValueError(
            f"label map {path}: values {bad[:10].tolist()} are outside the classes 0..{num_classes - 1} "
            f"(and are not the ignore label {ignore_label})"
        )
    return label


class SemSegMapper:
    """Detectron2's ``DatasetMapper`` for semantic segmentation, with the data checked first: a missing
    image or label file, a label map of another size than its image, or label values outside
    ``0..num_classes-1`` other than ``ignore_label`` raise errors naming the file(s).

    Produces ``{"image": (3, H, W) uint8 tensor, "sem_seg": (H, W) long tensor, "height", "width",
    "file_name", ...}`` after ``augmentations`` (applied to both image and labels).
    """

    def __init__(
        self,
        is_train: bool,
        augmentations: Sequence,
        image_format: str,
        num_classes: int,
        ignore_label: int = IGNORE_LABEL,
    ):
        self.is_train = is_train
        self.augmentations = T.AugmentationList(list(augmentations))
        self.image_format = image_format
        self.num_classes = int(num_classes)
        self.ignore_label = int(ignore_label)

    def __call__(self, dataset_dict: dict) -> dict:
        d = copy.deepcopy(dataset_dict)
        image_file = d["file_name"]
        if not Path(image_file).is_file():
            raise FileNotFoundError(f"image {image_file} does not exist")
        if "sem_seg_file_name" not in d:
            raise KeyError(f"{image_file}: the dataset dict has no sem_seg_file_name (no label map)")
        label_file = d.pop("sem_seg_file_name")
        if not Path(label_file).is_file():
            raise FileNotFoundError(f"label map {label_file} of image {image_file} does not exist")
        image = read_image(image_file, format=self.image_format)  # 16-bit greyscale: range kept
        utils.check_image_size(d, image)
        label = read_label_map(label_file, self.num_classes, self.ignore_label)
        if label.shape != image.shape[:2]:
            raise ValueError(
                f"label map {label_file} is {label.shape[1]}x{label.shape[0]} (WxH) but its image "
                f"{image_file} is {image.shape[1]}x{image.shape[0]}"
            )
        aug_input = T.AugInput(image, sem_seg=label)
        self.augmentations(aug_input)
        d["image"] = torch.as_tensor(np.ascontiguousarray(aug_input.image.transpose(2, 0, 1)))
        d["sem_seg"] = torch.as_tensor(aug_input.sem_seg.astype("long"))
        d.pop("annotations", None)
        return d
