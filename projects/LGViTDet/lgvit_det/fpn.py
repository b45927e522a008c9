"""FPN builders whose extra levels take their channel count from the backbone itself.

RetinaNet needs P6/P7. The official RegionViT detector (``detection/detector_wrapper.py``) computes them
from the *last backbone stage* (C5), like Detectron2's RetinaNet: ``LastLevelP6P7(in_channels=C5
channels)``. C5 has a different width per variant (768 for RegionViT-S, 1024 for -B), so a config
that only names the backbone cannot hard-code it; this builder reads it from ``output_shape()``.
"""

from __future__ import annotations

from collections.abc import Sequence

from detectron2.modeling import Backbone
from detectron2.modeling.backbone.fpn import FPN, LastLevelP6P7

__all__ = ["fpn_p6p7"]


def fpn_p6p7(
    bottom_up: Backbone,
    in_features: Sequence[str] = ("res3", "res4", "res5"),
    out_channels: int = 256,
    p6_from: str = "res5",
    norm: str = "",
    fuse_type: str = "sum",
    square_pad: int = 0,
) -> FPN:
    """FPN over ``in_features`` plus P6/P7 (stride 64/128) for RetinaNet.

    Args:
        bottom_up: a Detectron2 backbone (e.g. :class:`lgvit_det.LGViTBackbone`).
        in_features: backbone maps that feed the FPN (P3..P5 for RetinaNet).
        out_channels: FPN width.
        p6_from: ``"res5"`` (C5, the paper's and Detectron2's choice) or ``"p5"`` (the FPN output).
        norm, fuse_type, square_pad: as in Detectron2's ``FPN``.
    """
    shapes = bottom_up.output_shape()
    if p6_from == "p5":
        in_channels = out_channels
    elif p6_from in shapes:
        in_channels = shapes[p6_from].channels
    else:
        raise ValueError(
            f"p6_from must be 'p5' or one of the backbone outputs {sorted(shapes)}, got {p6_from!r}"
        )
    return FPN(
        bottom_up=bottom_up,
        in_features=list(in_features),
        out_channels=out_channels,
        norm=norm,
        top_block=LastLevelP6P7(in_channels, out_channels, in_feature=p6_from),
        fuse_type=fuse_type,
        square_pad=square_pad,
    )
