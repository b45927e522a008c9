"""Parsing the on-disk layouts of Kinetics-400 and Something-Something-v2 into labelled video lists.

Kinetics-400, in the three forms people hold it:

* **as released**: the annotation CSV ``label,youtube_id,time_start,time_end,split`` (header included;
  ``train.csv`` / ``validate.csv`` / ``test.csv``) with the clips the common downloaders write,
  ``<youtube_id>_<time_start:06d>_<time_end:06d>.<ext>`` (``.mp4``/``.mkv``/``.webm``, ...), flat under
  ``video_root`` or in per-class folders (``<label>/`` or ``<label with _ for spaces>/``). The class map
  is the sorted labels (the standard 400-class index) unless ``classes`` is given. Clips that are not
  there (deleted YouTube videos: a few percent of every download) are counted and reported once, in one
  log line and, with ``missing_list``, a CSV of the missing rows (the annotation format, so downloaders
  take it back); ``on_missing="error"`` refuses them instead (:func:`kinetics_from_annotations`);
* a list file, one video per line: ``<path>,<label>`` or ``<path> <label>`` (the label is a class index
  or a class name; a whitespace-separated line whose path ends in a video extension is split after the
  extension, so class names may contain spaces); paths are relative to ``video_root`` (default: the
  file's folder); an optional header line ``path label`` / ``path,label`` is skipped;
* a class-per-folder tree ``root/<class name>/<video>.<ext>``.

Every text file here (lists, class maps, annotation CSV/JSON) may start with a UTF-8 byte-order mark and
use CRLF line ends; a class map that names a class twice is refused.

Something-Something-v2 as released: ``labels.json`` (``{"Template text": "index"}``), ``train.json`` /
``validation.json`` (lists of ``{"id", "label", "template", "placeholders"}``; the class is the
``template`` with its ``[`` ``]`` removed), videos ``<video_root>/<id>.webm``.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v")
# the released Kinetics annotation CSV's columns (the test split of some releases has no label)
K400_COLUMNS = ("label", "youtube_id", "time_start", "time_end", "split")
_VIDEO_PATH_THEN_LABEL = re.compile(
    r"^(?P<path>.*?(?:" + "|".join(re.escape(e) for e in VIDEO_EXTENSIONS) + r"))\s+(?P<label>\S.*)$",
    re.IGNORECASE,
)


def read_text(path: str | os.PathLike) -> str:
    """A text file's content with a UTF-8 byte-order mark dropped (``splitlines`` then handles CRLF)."""
    return Path(path).read_text(encoding="utf-8-sig")


def read_json(path: str | os.PathLike):
    """A JSON file (byte-order mark tolerated); a damaged one raises ValueError naming the file."""
    try:
        return json.loads(read_text(path))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{path} is not valid JSON (truncated or damaged?): {e}") from e


@dataclass(frozen=True)
class VideoRecord:
    path: str
    label: int


@dataclass(frozen=True)
class VideoList:
    """Labelled videos plus the class names (index = label)."""

    records: tuple[VideoRecord, ...]
    classes: tuple[str, ...]
    missing: tuple[str, ...] = ()  # listed clips that are not on disk (released Kinetics CSV), left out

    def __len__(self) -> int:
        return len(self.records)


def _unique_classes(names: Sequence[str], where: str) -> tuple[str, ...]:
    names = tuple(names)
    dups = sorted(n for n, c in Counter(names).items() if c > 1)
    if dups:
        raise ValueError(
            f"{where} names {len(dups)} class(es) more than once: {', '.join(map(repr, dups[:10]))}; each "
            "class must appear once (its line number is its index)"
        )
    return names


def read_classes(source: str | Path | Sequence[str]) -> tuple[str, ...]:
    """Class names from a list, a text file (one per line) or a JSON file (a list, or ``{name: index}``
    as SSv2's ``labels.json`` / Kinetics' ``kinetics_classnames.json``). A name given twice is refused."""
    if not isinstance(source, (str, Path)):
        return _unique_classes(source, "the class list")
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"class map {path} does not exist")
    if path.suffix == ".json":
        data = read_json(path)
        if isinstance(data, dict):
            by_index = sorted(data.items(), key=lambda kv: int(kv[1]))
            if [int(v) for _, v in by_index] != list(range(len(by_index))):
                raise ValueError(f"{path}: class indices must be 0..{len(by_index) - 1} without gaps")
            return tuple(k for k, _ in by_index)
        return _unique_classes(data, f"class map {path}")
    names = [line.strip() for line in read_text(path).splitlines() if line.strip()]
    return _unique_classes(names, f"class map {path}")


def _split_line(line: str) -> tuple[str, str] | None:
    """``<path>,<label>`` (at the last comma) or ``<path> <label>``: after a video extension when the path
    has one (labels with spaces), else at the last whitespace."""
    if "," in line:
        path, _, label = line.rpartition(",")
    else:
        m = _VIDEO_PATH_THEN_LABEL.match(line)
        if m:
            path, label = m.group("path"), m.group("label")
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
    missing_list: str | Path | None = None,
    on_missing: str = "skip",
) -> VideoList:
    """Parses a K400 list file, or the released annotation CSV (recognised by its header; then
    :func:`kinetics_from_annotations` with ``missing_list`` / ``on_missing``), see the module docstring.
    Class names as labels need ``classes``; index labels are checked against ``len(classes)`` or
    ``num_classes``. Raises ValueError naming the lines whose label is not in the class map."""
    csv_file = Path(csv_file)
    if not csv_file.is_file():
        raise FileNotFoundError(f"Kinetics list file {csv_file} does not exist")
    text = read_text(csv_file)
    if _is_annotation_csv(text):
        return kinetics_from_annotations(csv_file, video_root, classes, missing_list, on_missing, text=text)
    root = Path(video_root) if video_root is not None else csv_file.parent
    names = read_classes(classes) if classes is not None else None
    class_index = {n: i for i, n in enumerate(names)} if names else None
    limit = len(names) if names else num_classes
    records, bad = [], []
    for lineno, raw in enumerate(text.splitlines(), start=1):
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
            hint = ""
            if "," not in line and " " in path.strip():
                hint = (
                    f" (split at the last space: is the class {path.split()[-1] + ' ' + label!r}? Write "
                    "'<path>,<label>' lines for class names with spaces)"
                )
            bad.append(f"line {lineno}: label {label!r} is not in the class map{hint}")
            continue
        records.append(VideoRecord(str(root / path), idx))
    if bad:
        hint = (
            f" (class map of {len(names)} names; a class name with spaces needs the comma form "
            "'<path>,<label>' unless the path ends in a video extension)"
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


def _is_annotation_csv(text: str) -> bool:
    first = next((line for line in text.splitlines() if line.strip()), "")
    cols = {c.strip().strip('"').lower() for c in first.split(",")}
    return {"youtube_id", "time_start", "time_end"} <= cols


def clip_name(youtube_id: str, time_start: float | str, time_end: float | str) -> str:
    """The file stem the common Kinetics downloaders write: ``<youtube_id>_<start:06d>_<end:06d>``."""
    return f"{youtube_id}_{int(float(time_start)):06d}_{int(float(time_end)):06d}"


def _index_clips(root: Path) -> dict[str, list[str]]:
    """Video files directly in ``root`` or one folder below (class folders): stem -> paths (sorted)."""
    index: dict[str, list[str]] = {}

    def add(path: str, name: str) -> None:
        stem, ext = os.path.splitext(name)
        if ext.lower() in VIDEO_EXTENSIONS:
            index.setdefault(stem, []).append(path)

    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        if entry.is_dir():
            for sub in sorted(os.scandir(entry.path), key=lambda e: e.name):
                if sub.is_file():
                    add(sub.path, sub.name)
        elif entry.is_file():
            add(entry.path, entry.name)
    return index


def _is_main_process() -> bool:
    try:
        import torch.distributed as dist
    except ImportError:  # pragma: no cover - torch is always there in practice
        return True
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def kinetics_from_annotations(
    csv_file: str | Path,
    video_root: str | Path | None = None,
    classes: str | Path | Sequence[str] | None = None,
    missing_list: str | Path | None = None,
    on_missing: str = "skip",
    text: str | None = None,
) -> VideoList:
    """Kinetics as released: the annotation CSV ``label,youtube_id,time_start,time_end,split`` and the
    clips ``<youtube_id>_<time_start:06d>_<time_end:06d>.<ext>`` under ``video_root`` (default: the CSV's
    folder), flat or in class folders.

    Args:
        classes: the class map; default: the CSV's labels sorted (the standard 400-class index when every
            class is there: pass the training split's map, or its ``classes.txt``, for a smaller subset).
        missing_list: where to write the listed clips that are not on disk (a CSV in the annotation
            format); None: not written (the log line then names a few).
        on_missing: ``"skip"`` (leave them out, one summary log line) or ``"error"`` (raise).

    Returns a :class:`VideoList` whose ``missing`` holds the missing clips' names.
    Raises FileNotFoundError when no listed clip is there (wrong ``video_root``?) or, with
    ``on_missing="error"``, when any is missing; ValueError for rows without a label or with a label
    outside ``classes``.
    """
    if on_missing not in ("skip", "error"):
        raise ValueError(f"on_missing must be 'skip' or 'error', got {on_missing!r}")
    csv_file = Path(csv_file)
    text = read_text(csv_file) if text is None else text
    root = Path(video_root) if video_root is not None else csv_file.parent
    if not root.is_dir():
        raise FileNotFoundError(f"Kinetics video folder {root} does not exist (video_root for {csv_file})")
    reader = csv.DictReader(io.StringIO(text), skipinitialspace=True)
    reader.fieldnames = [f.strip().strip('"').lower() for f in reader.fieldnames or ()]
    if "label" not in reader.fieldnames:
        raise ValueError(
            f"{csv_file} has no 'label' column (columns: {', '.join(reader.fieldnames)}): the unlabelled "
            "test split cannot be trained or evaluated on"
        )
    rows, bad = [], []
    for lineno, row in enumerate(reader, start=2):
        try:
            label = (row["label"] or "").strip()
            if not label:
                raise ValueError("empty label")
            rows.append(
                (label, clip_name(row["youtube_id"].strip(), row["time_start"], row["time_end"]), row)
            )
        except (ValueError, TypeError, AttributeError) as e:
            bad.append(f"line {lineno}: {dict(row)} ({e})")
    if bad:
        raise ValueError(f"{csv_file}: {len(bad)} bad row(s):\n  " + "\n  ".join(bad[:10]))
    if not rows:
        raise ValueError(f"{csv_file} lists no videos")
    names = read_classes(classes) if classes is not None else tuple(sorted({r[0] for r in rows}))
    class_index = {n: i for i, n in enumerate(names)}
    unknown = sorted({r[0] for r in rows} - set(class_index))
    if unknown:
        raise ValueError(
            f"{csv_file}: {len(unknown)} label(s) are not in the class map of {len(names)} classes: "
            f"{', '.join(map(repr, unknown[:10]))}"
        )
    index = _index_clips(root)
    records, missing = [], []
    for label, stem, row in rows:
        paths = index.get(stem)
        if not paths:
            missing.append((stem, row))
            continue
        folders = (label, label.replace(" ", "_"))
        path = next((p for p in paths if os.path.basename(os.path.dirname(p)) in folders), paths[0])
        records.append(VideoRecord(path, class_index[label]))
    if not records:
        raise FileNotFoundError(
            f"none of the {len(rows)} clips listed in {csv_file} is under {root}: expected files named "
            f"<youtube_id>_<time_start:06d>_<time_end:06d>.<ext> (e.g. {rows[0][1]}.mp4), flat or in class "
            "folders. Pass video_root=<the folder holding them>"
        )
    if missing:
        _report_missing(csv_file, root, missing, len(rows), reader.fieldnames, missing_list, on_missing)
    return VideoList(tuple(records), names, tuple(stem for stem, _ in missing))


def _report_missing(
    csv_file: Path,
    root: Path,
    missing: list[tuple[str, dict]],
    total: int,
    columns: Sequence[str],
    missing_list: str | Path | None,
    on_missing: str,
) -> None:
    """One log line (and with ``missing_list`` a CSV of the missing rows), written by the main process."""
    n = len(missing)
    where = ""
    if missing_list is not None:
        missing_list = Path(missing_list)
        if _is_main_process():
            missing_list.parent.mkdir(parents=True, exist_ok=True)
            with open(missing_list, "w", newline="", encoding="utf-8") as f:
                writer = csv.DictWriter(f, fieldnames=list(columns), extrasaction="ignore")
                writer.writeheader()
                writer.writerows(row for _, row in missing)
        where = f"; their rows are in {missing_list}"
    else:
        examples = ", ".join(stem for stem, _ in missing[:5])
        where = f" (e.g. {examples}{' ...' if n > 5 else ''}; pass missing_list=<file> to list them all)"
    summary = (
        f"{n} of {total} clips listed in {csv_file} ({100 * n / total:.2f}%) are not under {root}{where}"
    )
    if on_missing == "error":
        raise FileNotFoundError(summary + ". on_missing='skip' leaves them out instead")
    if _is_main_process():
        logger.warning("%s; they are left out", summary)


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
    missing_list: str | Path | None = None,
    on_missing: str = "skip",
) -> VideoList:
    """Kinetics from the released annotation CSV, a list file or a class-per-folder tree, whichever
    ``source`` is (``missing_list`` / ``on_missing``: see :func:`kinetics_from_annotations`)."""
    source = Path(source)
    if source.is_dir():
        return kinetics_from_folders(source, classes)
    return kinetics_from_csv(source, video_root, classes, num_classes, missing_list, on_missing)


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
    for i, item in enumerate(read_json(split_file)):
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
