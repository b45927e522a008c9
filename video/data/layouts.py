"""Parsing the on-disk layouts of Kinetics-400 and Something-Something-v2 into labelled video lists.

Kinetics-400 (what the common codebases -- SlowFast, pytorchvideo, mmaction -- read):

* a CSV/text file, one video per line: ``<path> <label>`` (whitespace) or ``<path>,<label>``; the label is
  a class index or a class name; paths are relative to ``video_root`` (default: the file's folder);
  an optional header line ``path label`` / ``path,label`` is skipped;
* a class-per-folder tree ``root/<class name>/<video>.<ext>``.

Something-Something-v2 as released: ``labels.json`` (``{"Template text": "index"}``), ``train.json`` /
``validation.json`` (lists of ``{"id", "label", "template", "placeholders"}``; the class is the
``template`` with its ``[`` ``]`` removed), videos ``<video_root>/<id>.webm``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v")


@dataclass(frozen=True)
class VideoRecord:
    path: str
    label: int


@dataclass(frozen=True)
class VideoList:
    """Labelled videos plus the class names (index = label)."""

    records: tuple[VideoRecord, ...]
    classes: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.records)


def read_classes(source: str | Path | Sequence[str]) -> tuple[str, ...]:
    """Class names from a list, a text file (one per line) or a JSON file (a list, or ``{name: index}``
    as SSv2's ``labels.json`` / Kinetics' ``kinetics_classnames.json``)."""
    if not isinstance(source, (str, Path)):
        return tuple(source)
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"class map {path} does not exist")
    if path.suffix == ".json":
        data = json.loads(path.read_text())
        if isinstance(data, dict):
            by_index = sorted(data.items(), key=lambda kv: int(kv[1]))
            if [int(v) for _, v in by_index] != list(range(len(by_index))):
                raise ValueError(f"{path}: class indices must be 0..{len(by_index) - 1} without gaps")
            return tuple(k for k, _ in by_index)
        return tuple(data)
    return tuple(line.strip() for line in path.read_text().splitlines() if line.strip())


def _split_line(line: str) -> tuple[str, str] | None:
    if "," in line:
        path, _, label = line.rpartition(",")
    else:
        parts = line.rsplit(None, 1)
        if len(parts) != 2:
            return None
        path, label = parts
    return path.strip().strip('"'), label.strip().strip('"')


def _resolve_label(label: str, class_index: dict[str, int] | None, num_classes: int | None) -> int | None:
    if re.fullmatch(r"-?\d+", label):
        i = int(label)
        return i if i >= 0 and (num_classes is None or i < num_classes) else None
    if class_index is None:
        return None
    return class_index.get(label)


def kinetics_from_csv(
    csv_file: str | Path,
    video_root: str | Path | None = None,
    classes: str | Path | Sequence[str] | None = None,
    num_classes: int | None = None,
) -> VideoList:
    """Parses a K400 list file (see the module docstring). Class names as labels need ``classes``;
    index labels are checked against ``len(classes)`` or ``num_classes``. Raises ValueError naming the
    lines whose label is not in the class map."""
    csv_file = Path(csv_file)
    if not csv_file.is_file():
        raise FileNotFoundError(f"Kinetics list file {csv_file} does not exist")
    root = Path(video_root) if video_root is not None else csv_file.parent
    names = read_classes(classes) if classes is not None else None
    class_index = {n: i for i, n in enumerate(names)} if names else None
    limit = len(names) if names else num_classes
    records, bad = [], []
    for lineno, raw in enumerate(csv_file.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        split = _split_line(line)
        if split is None:
            bad.append(f"line {lineno}: {raw!r} has no label (expected '<path> <label>' or '<path>,<label>')")
            continue
        path, label = split
        if lineno == 1 and (path.lower(), label.lower()) in {("path", "label"), ("video", "label")}:
            continue  # header
        idx = _resolve_label(label, class_index, limit)
        if idx is None:
            bad.append(f"line {lineno}: label {label!r} is not in the class map")
            continue
        records.append(VideoRecord(str(root / path), idx))
    if bad:
        hint = (
            f" (class map of {len(names)} names)"
            if names
            else " (pass classes=<file> to use class names as labels)"
            if any("not in the class map" in b for b in bad)
            else ""
        )
        raise ValueError(f"{csv_file}: {len(bad)} bad line(s){hint}:\n  " + "\n  ".join(bad[:10]))
    if not records:
        raise ValueError(f"{csv_file} lists no videos")
    if names is None:
        n = max(r.label for r in records) + 1
        names = tuple(str(i) for i in range(max(n, num_classes or 0)))
    return VideoList(tuple(records), tuple(names))


def kinetics_from_folders(root: str | Path, classes: str | Path | Sequence[str] | None = None) -> VideoList:
    """Parses ``root/<class>/<video>``. Without ``classes`` the sorted folder names are the classes (pass
    the training split's class map for the validation split, so indices agree)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"Kinetics folder {root} does not exist")
    folders = sorted(p.name for p in root.iterdir() if p.is_dir())
    names = read_classes(classes) if classes is not None else tuple(folders)
    class_index = {n: i for i, n in enumerate(names)}
    unknown = [f for f in folders if f not in class_index]
    if unknown:
        raise ValueError(
            f"{root}: folders {unknown[:10]} are not in the class map of {len(names)} classes; "
            "is this the right split/class list?"
        )
    records = [
        VideoRecord(str(p), class_index[folder])
        for folder in folders
        for p in sorted((root / folder).iterdir())
        if p.suffix.lower() in VIDEO_EXTENSIONS
    ]
    if not records:
        raise ValueError(f"{root} holds no videos ({', '.join(VIDEO_EXTENSIONS)}) in class folders")
    return VideoList(tuple(records), names)


def kinetics(
    source: str | Path,
    video_root: str | Path | None = None,
    classes: str | Path | Sequence[str] | None = None,
    num_classes: int | None = None,
) -> VideoList:
    """Kinetics from a list file or a class-per-folder tree, whichever ``source`` is."""
    source = Path(source)
    if source.is_dir():
        return kinetics_from_folders(source, classes)
    return kinetics_from_csv(source, video_root, classes, num_classes)


def ssv2(
    annotation_dir: str | Path,
    split: str = "train",
    video_root: str | Path | None = None,
    extension: str = ".webm",
) -> VideoList:
    """Something-Something-v2 as released. ``split``: 'train' or 'validation' (reads ``<split>.json``);
    ``video_root`` defaults to ``<annotation_dir>/videos``."""
    ann = Path(annotation_dir)
    files = {"train": "train.json", "validation": "validation.json", "val": "validation.json"}
    if split not in files:
        raise ValueError(f"unknown SSv2 split {split!r}; choose 'train' or 'validation'")
    labels_file, split_file = ann / "labels.json", ann / files[split]
    for f in (labels_file, split_file):
        if not f.is_file():
            raise FileNotFoundError(
                f"SSv2 annotation {f} does not exist (expected the released labels/ folder)"
            )
    names = read_classes(labels_file)
    class_index = {n: i for i, n in enumerate(names)}
    root = Path(video_root) if video_root is not None else ann / "videos"
    records, bad = [], []
    for i, item in enumerate(json.loads(split_file.read_text())):
        if "template" not in item:
            raise ValueError(f"{split_file}: entry {i} has no 'template' (the unlabelled test split?)")
        template = item["template"].replace("[", "").replace("]", "")
        if template not in class_index:
            bad.append(f"entry {i} (id {item.get('id')}): template {template!r}")
            continue
        records.append(VideoRecord(str(root / f"{item['id']}{extension}"), class_index[template]))
    if bad:
        raise ValueError(
            f"{split_file}: {len(bad)} template(s) not in {labels_file}:\n  " + "\n  ".join(bad[:10])
        )
    return VideoList(tuple(records), names)
