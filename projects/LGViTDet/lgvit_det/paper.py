"""Detection reference numbers (RegionViT Table 5 / A4), from :mod:`lgvit.reference`, keyed by
``(detector, config suffix)`` as the config files are named."""

from __future__ import annotations

from lgvit.reference import DETECTION, DetectionEntry

__all__ = ["PAPER", "VARIANTS"]

# config suffix -> lgvit model name (RegionViT-S+ is the window-14 "_w14" variant, Table 5 "+")
VARIANTS = {
    "s": "regionvit_s",
    "s_w14": "regionvit_s_w14",
    "s_w14_peg": "regionvit_s_w14_peg",
    "b": "regionvit_b",
    "b_w14": "regionvit_b_w14",
    "b_w14_peg": "regionvit_b_w14_peg",
}
_SUFFIX = {name: suffix for suffix, name in VARIANTS.items()}

PAPER: dict[tuple[str, str], DetectionEntry] = {
    (det, _SUFFIX[name]): entry for (det, name), entry in DETECTION.items() if name in _SUFFIX
}
