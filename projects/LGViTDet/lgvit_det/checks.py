"""Checks that turn user-data mistakes into one clear message before (or instead of) a deep failure.

* :func:`check_model_data`: the model's class/keypoint counts against the datasets' metadata
  (``num_classes`` smaller than the dataset's category count, keypoint count differing from the
  dataset's, keypoint datasets without keypoint names / flip map), with the override to fix it.
* :class:`ImageErrorNamingMapper`: wraps a dataset mapper so that an unreadable image (truncated,
  damaged, missing) stops training with its file name. Decision (issue 12 item 6): detection *stops*
  rather than skipping and counting as video does, since a detection dataset is annotated per image and a
  silently shrinking training set changes what is learned; the message says how to fix the file. A
  16-bit greyscale image, which Detectron2's reader would silently clip to a white picture, is refused
  the same way (the message says how to convert it).
* :func:`read_image`: Detectron2's ``read_image`` with 16-bit (and 32-bit integer) greyscale images
  scaled to 8 bits with their range kept (the segmentation mapper reads with it).
* :func:`keypoint_metadata_problem`: the keypoint-head-without-keypoint-data message, shared by
  :func:`check_model_data` and :func:`lgvit_det.checked_dataset_dicts` (keypoint configs on data
  without keypoints are refused there, before Detectron2's "No valid data found").
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from detectron2.data import MetadataCatalog
from detectron2.data import detection_utils as utils
from PIL import Image

__all__ = [
    "HIGH_BIT_DEPTH_MODES",
    "DataModelMismatch",
    "ImageErrorNamingMapper",
    "UnreadableImageError",
    "check_model_data",
    "keypoint_metadata_problem",
    "read_image",
]

# PIL modes of greyscale images with more than 8 bits (16-bit PNG/TIFF: "I;16*", or "I" in older Pillow)
HIGH_BIT_DEPTH_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")

logger = logging.getLogger(__name__)


class DataModelMismatch(ValueError):
    """The model config does not fit the dataset; the message says which setting to change."""


class UnreadableImageError(OSError):
    """A dataset image that cannot be decoded; the message names the file."""


def _get(node: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if node is None:
            return None
        node = node.get(part) if hasattr(node, "get") else getattr(node, part, None)
    return node


def _names(names: str | Sequence[str]) -> list[str]:
    return [names] if isinstance(names, str) else list(names)


def keypoint_metadata_problem(name: str, num_keypoints: int | None = None) -> str | None:
    """The refusal message for a keypoint head on dataset ``name`` when its metadata has no
    ``keypoint_names`` / ``keypoint_flip_map`` (e.g. COCO instances json registered without keypoints);
    None when both are there."""
    meta = MetadataCatalog.get(name)
    if meta.get("keypoint_names", None) is not None and meta.get("keypoint_flip_map", None) is not None:
        return None
    head = f"a keypoint head ({num_keypoints} keypoints)" if num_keypoints is not None else "a keypoint head"
    return (
        f"the model has {head} but dataset {name!r} has no keypoint_names / keypoint_flip_map "
        "metadata. Register them with the dataset, e.g. "
        f"MetadataCatalog.get({name!r}).set(keypoint_names=[...], keypoint_flip_map=[('left_x', "
        "'right_x'), ...]) (see projects/LGViTDet/RELIABILITY.md, 'your own COCO-format data'), "
        "or train a box/mask config"
    )


def check_model_data(model_cfg: Any, dataset_names: str | Sequence[str]) -> None:
    """Raises :class:`DataModelMismatch` when ``model_cfg`` (``cfg.model``) cannot learn or evaluate the
    datasets: fewer classes than the dataset has (the rest would silently become background), a keypoint
    head whose count differs from the dataset's ``keypoint_names``, or a keypoint head on a dataset
    without ``keypoint_names`` / ``keypoint_flip_map`` metadata. Call it after the dataset dicts were
    loaded (``load_coco_json`` sets ``thing_classes`` of user-registered datasets)."""
    for where in ("roi_heads.num_classes", "num_classes"):  # R-CNN heads, RetinaNet
        num_classes = _get(model_cfg, where)
        if num_classes is not None:
            break
    num_keypoints = _get(model_cfg, "roi_heads.keypoint_head.num_keypoints")
    for name in _names(dataset_names):
        meta = MetadataCatalog.get(name)
        if num_keypoints is not None:
            kp_names = meta.get("keypoint_names", None)
            problem = keypoint_metadata_problem(name, num_keypoints)
            if problem:
                raise DataModelMismatch(problem)
            if len(kp_names) != num_keypoints:
                raise DataModelMismatch(
                    f"model.roi_heads.keypoint_head.num_keypoints={num_keypoints} but dataset {name!r} has "
                    f"{len(kp_names)} keypoints ({', '.join(kp_names[:6])}"
                    f"{' ...' if len(kp_names) > 6 else ''}). "
                    f"Set model.roi_heads.keypoint_head.num_keypoints={len(kp_names)}"
                )
        classes = meta.get("thing_classes", None)
        if num_classes is not None and classes is not None:
            if num_classes < len(classes):
                raise DataModelMismatch(
                    f"model.{where}={num_classes} but dataset {name!r} has {len(classes)} classes "
                    f"({', '.join(map(str, classes[:10]))}{' ...' if len(classes) > 10 else ''}): the extra "
                    f"classes would be trained and evaluated as background. Set model.{where}={len(classes)}"
                )
            if num_classes > len(classes):
                logger.warning(
                    "model.%s=%d but dataset %r has %d classes: %d outputs stay unused",
                    where,
                    num_classes,
                    name,
                    len(classes),
                    num_classes - len(classes),
                )


def _to_8bit(im: Image.Image) -> Image.Image:
    """A >8-bit greyscale image as 8-bit ``L``, its range kept: 16-bit values v -> round(v * 255 / 65535)
    (32-bit integer images whose values exceed 16 bits: over their own maximum)."""
    a = np.asarray(im).astype(np.float64)
    top = 65535.0 if a.size == 0 or a.max() <= 65535 else float(a.max())
    return Image.fromarray(np.clip(np.rint(a * (255.0 / top)), 0, 255).astype(np.uint8), mode="L")


def read_image(file_name: str, format: str | None = None) -> np.ndarray:
    """Detectron2's ``detection_utils.read_image`` (EXIF orientation applied, ``format`` 'RGB', 'BGR', 'L',
    ...), except that 16-bit greyscale images (16-bit PNGs, which Detectron2 clips to white) are scaled to
    8 bits with their range kept (:func:`_to_8bit`)."""
    with Image.open(file_name) as im:
        im = utils._apply_exif_orientation(im)
        if im.mode in HIGH_BIT_DEPTH_MODES:
            im = _to_8bit(im)
        return utils.convert_PIL_to_numpy(im, format)


def _refuse_high_bit_depth(file_name: str) -> None:
    with Image.open(file_name) as im:  # reads the header only
        mode = im.mode
    if mode in HIGH_BIT_DEPTH_MODES:
        raise UnreadableImageError(
            f"image {file_name} has more than 8 bits per pixel (PIL mode {mode!r}): Detectron2's reader "
            "would turn it into a white picture. Convert it to 8 bits keeping its range, e.g. "
            "PIL.Image.fromarray(lgvit_det.checks.read_image(path, 'RGB')).save(path_8bit), and point the "
            "dataset's json at the converted file"
        )


class ImageErrorNamingMapper:
    """Calls ``mapper(dataset_dict)``; an image that cannot be read (``OSError``: truncated, damaged or
    missing file) becomes an :class:`UnreadableImageError` naming the file and the fix, and so does a
    16-bit greyscale image (which the wrapped reader would clip to white)."""

    def __init__(self, mapper: Callable[[dict], Any]):
        self.mapper = mapper

    def __call__(self, dataset_dict: dict) -> Any:
        try:
            if "file_name" in dataset_dict:
                _refuse_high_bit_depth(dataset_dict["file_name"])
            return self.mapper(dataset_dict)
        except UnreadableImageError:
            raise
        except OSError as e:  # PIL: "image file is truncated", UnidentifiedImageError, FileNotFoundError
            name = dataset_dict.get("file_name", "<no file_name>")
            raise UnreadableImageError(
                f"cannot read image {name} ({type(e).__name__}: {e}). Training stops rather than skip it: "
                "re-encode or replace the file, or remove its entry from the dataset's json"
            ) from e

    def __repr__(self) -> str:
        return f"ImageErrorNamingMapper({self.mapper!r})"
