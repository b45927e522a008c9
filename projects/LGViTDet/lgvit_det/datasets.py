"""Dataset registration and checked loading.

``import lgvit_det`` registers the synthetic splits with Detectron2's catalogs (generated on first
use, see :mod:`lgvit_det.shapes`):

================== =========== ======= =====================================================
name               kind        images  notes
================== =========== ======= =====================================================
shapes_train       instances   64      circle / square / triangle, boxes + polygon masks
shapes_val         instances   16      + a tiny 56x40 image
shapes_kp_train    keypoints   64      "person" stick figures, 5 keypoints + flip map
shapes_kp_val      keypoints   16      + a tiny 56x40 image
================== =========== ======= =====================================================

They live in ``$LGVIT_SHAPES_DIR``, else ``$DETECTRON2_DATASETS/lgvit_shapes``, else
``./datasets/lgvit_shapes`` (Detectron2's convention). COCO itself (``coco_2017_*``,
``keypoints_coco_2017_*``) is registered by Detectron2 under ``$DETECTRON2_DATASETS/coco``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pycocotools.mask as mask_util
from detectron2.data import DatasetCatalog, MetadataCatalog
from detectron2.data.build import (
    check_metadata_consistency,
    filter_images_with_few_keypoints,
    filter_images_with_only_crowd_annotations,
    load_proposals_into_dataset,
    print_instances_class_histogram,
)
from detectron2.data.datasets import load_coco_json
from detectron2.evaluation import COCOEvaluator

from .checks import DataModelMismatch, keypoint_metadata_problem
from .shapes import (
    KEYPOINT_CONNECTION_RULES,
    KEYPOINT_FLIP_MAP,
    KEYPOINT_NAMES,
    KEYPOINT_OKS_SIGMAS,
    OBJECT_CLASSES,
    SplitSpec,
    write_split,
)

__all__ = [
    "SHAPES_SPLITS",
    "checked_dataset_dicts",
    "coco_evaluator",
    "ensure_dataset",
    "polygon_masks",
    "register_shapes",
    "rle_to_polygons",
    "shapes_root",
]

logger = logging.getLogger(__name__)
BOM = b"\xef\xbb\xbf"

SHAPES_SPLITS: dict[str, SplitSpec] = {
    "shapes_train": SplitSpec("instances", 64, seed=1),
    "shapes_val": SplitSpec("instances", 16, seed=2, tiny=True),
    "shapes_kp_train": SplitSpec("keypoints", 64, seed=3),
    "shapes_kp_val": SplitSpec("keypoints", 16, seed=4, tiny=True),
}


def shapes_root() -> Path:
    """Where the synthetic splits are written (absolute; see the module docstring)."""
    env = os.environ.get("LGVIT_SHAPES_DIR")
    if env:
        return Path(env).resolve()
    return (Path(os.environ.get("DETECTRON2_DATASETS", "datasets")) / "lgvit_shapes").resolve()


def _metadata(kind: str) -> dict:
    if kind == "instances":
        return dict(thing_classes=list(OBJECT_CLASSES))
    return dict(
        thing_classes=["person"],
        keypoint_names=list(KEYPOINT_NAMES),
        keypoint_flip_map=[tuple(p) for p in KEYPOINT_FLIP_MAP],
        keypoint_connection_rules=[tuple(r) for r in KEYPOINT_CONNECTION_RULES],
        keypoint_oks_sigmas=list(KEYPOINT_OKS_SIGMAS),
    )


def register_shapes(root: str | os.PathLike | None = None) -> None:
    """(Re-)registers the synthetic splits under ``root`` (default :func:`shapes_root`)."""
    root = Path(root).resolve() if root is not None else shapes_root()
    for name, spec in SHAPES_SPLITS.items():
        if name in DatasetCatalog.list():
            DatasetCatalog.remove(name)
            MetadataCatalog.remove(name)

        def load(name: str = name, spec: SplitSpec = spec) -> list[dict]:
            json_file, image_root = write_split(root, name, spec)
            return load_coco_json(str(json_file), str(image_root), name)

        DatasetCatalog.register(name, load)
        MetadataCatalog.get(name).set(
            json_file=str(root / f"{name}.json"),
            image_root=str(root / name),
            evaluator_type="coco",
            lgvit_synthetic=True,
            **_metadata(spec.kind),
        )


def ensure_dataset(name: str) -> None:
    """Makes sure ``name``'s files exist: generates synthetic splits, or raises a FileNotFoundError that
    says which file is missing and how to provide it (instead of a deep stack trace later)."""
    if name not in DatasetCatalog.list():
        known = ", ".join(
            sorted(n for n in DatasetCatalog.list() if "coco_2017" in n or n.startswith("shapes"))
        )
        raise KeyError(f"dataset {name!r} is not registered; known include: {known}")
    meta = MetadataCatalog.get(name)
    if meta.get("lgvit_synthetic", False):
        root = Path(meta.json_file).parent
        write_split(root, name, SHAPES_SPLITS[name])
        return
    where = os.environ.get("DETECTRON2_DATASETS", "unset -> ./datasets")
    for what in ("json_file", "image_root"):
        path = meta.get(what, None)
        if path is not None and not Path(path).exists():
            raise FileNotFoundError(
                f"dataset {name!r}: {what} {path} does not exist. Put the dataset there (Detectron2 looks "
                f"under $DETECTRON2_DATASETS, currently {where}),"
                " or train on the synthetic data instead: the configs/shapes/*.py configs, or "
                "dataloader.train.dataset.names=shapes_train dataloader.test.dataset.names=shapes_val"
            )


def rle_to_polygons(segm: dict) -> list[list[float]]:
    """A COCO RLE mask (compressed, or uncompressed with a ``counts`` list) -> polygons along its pixel
    outlines (corner coordinates, as COCO polygons use), so that ``mask_format="polygon"`` mappers train
    on it. Holes are filled (the polygons' union); an empty mask gives ``[]``."""
    if isinstance(segm.get("counts"), list):
        segm = mask_util.frPyObjects(segm, *segm["size"])
    mask = np.ascontiguousarray(mask_util.decode(segm).astype(np.uint8))
    # upsampled x2 so that one-pixel parts keep a non-degenerate outline; /2 maps back to corners
    big = cv2.resize(mask, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
    contours, _ = cv2.findContours(big, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    polys = []
    for c in contours:
        pts = (c.reshape(-1, 2).astype(np.float64) + 0.5) / 2.0
        if len(pts) >= 3:
            polys.append([float(v) for v in pts.reshape(-1)])
    return polys


def polygon_masks(dicts: list[dict]) -> list[dict]:
    """Every non-crowd annotation's RLE ``segmentation`` (compressed or not, as COCO exporters write)
    turned into polygons (:func:`rle_to_polygons`), in place; crowd regions keep their RLE (mappers
    ignore them for training). Annotations whose mask is empty lose the ``segmentation`` key."""
    for d in dicts:
        for a in d.get("annotations", ()):
            segm = a.get("segmentation")
            if isinstance(segm, dict) and not a.get("iscrowd", 0):
                polys = rle_to_polygons(segm)
                if polys:
                    a["segmentation"] = polys
                else:
                    del a["segmentation"]
    return dicts


def _bom_free(json_file: str) -> str:
    """``json_file``, or for a file starting with a UTF-8 byte-order mark (which pycocotools' ``json.load``
    refuses) a copy without it in the temporary folder (reused while the file is unchanged)."""
    with open(json_file, "rb") as f:
        if f.read(3) != BOM:
            return json_file
    st = os.stat(json_file)
    key = hashlib.sha1(f"{os.path.abspath(json_file)}:{st.st_mtime_ns}:{st.st_size}".encode()).hexdigest()[
        :16
    ]
    copy = Path(tempfile.gettempdir()) / "lgvit_bom_free" / f"{Path(json_file).stem}-{key}.json"
    if not copy.is_file():
        copy.parent.mkdir(parents=True, exist_ok=True)
        tmp = copy.with_suffix(f".{os.getpid()}.tmp")
        with open(json_file, "rb") as src, open(tmp, "wb") as dst:
            src.read(3)
            while chunk := src.read(1 << 24):
                dst.write(chunk)
        os.replace(tmp, copy)
    logger.info("%s starts with a byte-order mark: read through a copy without it (%s)", json_file, copy)
    return str(copy)


def _load(name: str) -> list[dict]:
    """``DatasetCatalog.get(name)``, with COCO json files that start with a byte-order mark read through a
    copy without it, and a damaged json named (Detectron2 raises a bare ``JSONDecodeError``)."""
    meta = MetadataCatalog.get(name)
    json_file = meta.get("json_file", None)
    try:
        if json_file and not meta.get("lgvit_synthetic", False) and Path(json_file).is_file():
            clean = _bom_free(json_file)
            if clean != json_file:
                return load_coco_json(clean, meta.get("image_root", ""), name)
        return DatasetCatalog.get(name)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(
            f"dataset {name!r}: annotation file {json_file} is not valid JSON (truncated or damaged? {e}). "
            "Re-export or re-download it"
        ) from e


def _check_classes(name: str) -> None:
    classes = MetadataCatalog.get(name).get("thing_classes", None) or ()
    dups = sorted(c for c, n in Counter(classes).items() if n > 1)
    if dups:
        raise ValueError(
            f"dataset {name!r} names {len(dups)} categor(ies) more than once: "
            f"{', '.join(map(repr, dups[:10]))}; give every category of the json's 'categories' its own name"
        )


def checked_dataset_dicts(
    names: str | Sequence[str],
    filter_empty: bool = True,
    min_keypoints: int = 0,
    proposal_files: Sequence[str] | None = None,
    check_consistency: bool = True,
) -> list[dict]:
    """Detectron2's ``get_detection_dataset_dicts`` (same arguments) after :func:`ensure_dataset` on every
    name, with RLE masks of non-crowd objects as polygons (:func:`polygon_masks`), which the shipped
    configs' mappers (``mask_format="polygon"``) need, and with user files checked: a COCO json with a
    byte-order mark is read, a damaged one is named, duplicate category names are refused, and a
    keypoint config (``min_keypoints > 0``) on data without keypoint metadata or without any keypoint
    annotation is refused with what to do (instead of Detectron2's "No valid data found")."""
    names = [names] if isinstance(names, str) else list(names)
    for n in names:
        ensure_dataset(n)
        if min_keypoints > 0 and (problem := keypoint_metadata_problem(n)):
            raise DataModelMismatch(problem)
    per_name = [_load(n) for n in names]
    for n, dicts in zip(names, per_name):
        if not len(dicts):
            raise ValueError(f"dataset {n!r} is empty (its json lists no images)")
        _check_classes(n)
        if min_keypoints > 0 and not any(a.get("keypoints") for d in dicts for a in d.get("annotations", ())):
            raise DataModelMismatch(
                f"this config trains a keypoint head (min_keypoints={min_keypoints}) but no annotation of "
                f"dataset {n!r} has keypoints ({MetadataCatalog.get(n).get('json_file', '')}): use a "
                "keypoint json (COCO person_keypoints_*.json format) or a box/mask config"
            )
    if proposal_files is not None:
        per_name = [load_proposals_into_dataset(d, f) for d, f in zip(per_name, proposal_files)]
    dicts = list(itertools.chain.from_iterable(per_name))
    has_instances = "annotations" in dicts[0]
    if filter_empty and has_instances:
        dicts = filter_images_with_only_crowd_annotations(dicts)
    if min_keypoints > 0 and has_instances:
        dicts = filter_images_with_few_keypoints(dicts, min_keypoints)
    if check_consistency and has_instances:
        classes = MetadataCatalog.get(names[0]).get("thing_classes", None)
        if classes is not None:
            check_metadata_consistency("thing_classes", names)
            print_instances_class_histogram(dicts, classes)
    if not dicts:
        raise ValueError(
            f"no image of {', '.join(names)} is left after filtering (filter_empty={filter_empty}: images "
            f"without non-crowd objects dropped; min_keypoints={min_keypoints})"
        )
    return polygon_masks(dicts)


def coco_evaluator(dataset_name: str, output_dir: str | None = None, **kwargs) -> COCOEvaluator:
    """``COCOEvaluator`` for ``dataset_name`` with its OKS sigmas taken from the metadata (needed for any
    keypoint set other than COCO's 17), after :func:`ensure_dataset`."""
    ensure_dataset(dataset_name)
    meta = MetadataCatalog.get(dataset_name)
    sigmas = meta.get("keypoint_oks_sigmas", None)
    if sigmas is not None and "kpt_oks_sigmas" not in kwargs:
        kwargs["kpt_oks_sigmas"] = sigmas
    json_file = meta.get("json_file", None)
    if json_file and Path(json_file).is_file() and (clean := _bom_free(json_file)) != json_file:
        # the evaluator reads metadata.json_file itself: give it a twin whose json has no byte-order mark
        twin = f"{dataset_name}@bom_free"
        if twin not in MetadataCatalog.list():
            MetadataCatalog.get(twin).set(
                **{k: v for k, v in meta.as_dict().items() if k not in ("name", "json_file")}, json_file=clean
            )
        dataset_name = twin
    return COCOEvaluator(dataset_name, output_dir=output_dir, **kwargs)
