"""The UCI handwritten digits (shipped with scikit-learn: 1,797 real 8x8 grey images, 10 classes, no
download) exported as an image folder, the one real-image dataset a machine without internet has.

Layout: ``out/train/<digit>/<index>.png`` and ``out/val/<digit>/<index>.png`` (``index`` = row in
``sklearn.datasets.load_digits``), upsampled with bicubic interpolation to ``size`` pixels. The split is
fixed and stratified: for each digit, a ``numpy.random.RandomState(seed)`` permutation of its rows puts
the first ``round(holdout * count)`` in ``val``. ``manifest.json`` records the parameters; exporting
again with the same parameters leaves the files alone.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
from PIL import Image

__all__ = ["DigitsExport", "export_digits"]

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class DigitsExport:
    root: str
    size: int
    holdout: float
    seed: int
    num_train: int
    num_val: int
    classes: tuple[str, ...]

    @property
    def train(self) -> str:
        return os.path.join(self.root, "train")

    @property
    def val(self) -> str:
        return os.path.join(self.root, "val")


def _load_digits() -> tuple[np.ndarray, np.ndarray]:
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:  # pragma: no cover - depends on the install
        raise ImportError(
            "exporting the digits needs scikit-learn (it ships the UCI digits): pip install scikit-learn "
            "(or pip install -e '.[cls]')"
        ) from e
    digits = load_digits()
    return digits.images, digits.target


def split_indices(targets: np.ndarray, holdout: float, seed: int) -> np.ndarray:
    """Boolean mask of held-out rows: a fixed, stratified share ``holdout`` of every class."""
    rng = np.random.RandomState(seed)
    val = np.zeros(len(targets), dtype=bool)
    for c in np.unique(targets):
        rows = rng.permutation(np.flatnonzero(targets == c))
        val[rows[: int(round(holdout * len(rows)))]] = True
    return val


def export_digits(
    out: str | os.PathLike, size: int = 32, holdout: float = 0.25, seed: int = 0, overwrite: bool = False
) -> DigitsExport:
    """Writes the digits image folder under ``out`` (see the module docstring); returns what it holds.

    An existing export with the same parameters is reused; one with other parameters is an error unless
    ``overwrite``."""
    if not 8 <= size <= 1024:
        raise ValueError(f"size must be between 8 and 1024 pixels, got {size}")
    if not 0.0 < holdout < 1.0:
        raise ValueError(f"holdout must be a fraction between 0 and 1, got {holdout}")
    root = Path(out)
    params = dict(size=size, holdout=holdout, seed=seed)
    manifest = root / MANIFEST
    if manifest.is_file():
        found = json.loads(manifest.read_text())
        if {k: found.get(k) for k in params} == params:
            keep = {f.name for f in fields(DigitsExport)} - {"root", "classes"}
            return DigitsExport(
                root=str(root), classes=tuple(found["classes"]), **{k: found[k] for k in keep}
            )
        if not overwrite:
            raise FileExistsError(
                f"{root} holds a digits export with other parameters "
                f"({ {k: found.get(k) for k in params} }); "
                f"pass overwrite=True (--overwrite) or another output folder to export {params}"
            )
    if root.exists() and (overwrite or manifest.is_file()):
        for split in ("train", "val"):
            shutil.rmtree(root / split, ignore_errors=True)
    images, targets = _load_digits()
    val = split_indices(targets, holdout, seed)
    classes = tuple(str(c) for c in sorted(np.unique(targets)))
    for i, (img, t) in enumerate(zip(images, targets)):
        folder = root / ("val" if val[i] else "train") / str(t)
        folder.mkdir(parents=True, exist_ok=True)
        pixels = np.clip(img * (255.0 / 16.0), 0, 255).round().astype(np.uint8)  # 0..16 -> 0..255
        Image.fromarray(pixels, mode="L").resize((size, size), Image.BICUBIC).save(folder / f"{i:04d}.png")
    result = DigitsExport(str(root), size, holdout, seed, int((~val).sum()), int(val.sum()), classes)
    info = {k: v for k, v in asdict(result).items() if k != "root"}
    info["source"] = "sklearn.datasets.load_digits (UCI ML hand-written digits, 1,797 8x8 images)"
    manifest.write_text(json.dumps(info, indent=1) + "\n")
    return result
