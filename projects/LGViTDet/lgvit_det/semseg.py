"""UperNet (Xiao et al., ECCV 2018, "Unified Perceptual Parsing") as a Detectron2 semantic-segmentation head.

Semantic FPN needs nothing of ours: Detectron2's ``SemanticSegmentor`` + ``SemSegFPNHead`` run on an FPN
over :class:`lgvit_det.LGViTBackbone` (``configs/segmentation/``). UperNet (RSIR Table 6) is registered
here in ``SEM_SEG_HEADS_REGISTRY``, so it works from yacs configs (``MODEL.SEM_SEG_HEAD.NAME:
"UperNetHead"``) and from lazy configs (``L(UperNetHead)(input_shape=..., ...)``). It sits directly on
the backbone's maps (no separate FPN), as in the paper and in mmsegmentation's ``UPerHead``:

* pyramid pooling (PPM) on the last map: average-pool to 1x1, 2x2, 3x3, 6x6, 1x1 conv each, upsample,
  concatenate with the map, 3x3 conv -> the top of the feature pyramid;
* FPN: 1x1 lateral convs on the other maps, top-down bilinear upsample-and-add (as mmseg), a 3x3 conv on
  each level but the top;
* fusion: every level upsampled to the finest (stride 4), concatenated, 3x3 conv, dropout, 1x1 classifier;
  logits upsampled by ``common_stride`` to the input size; cross-entropy ignoring ``ignore_value``.

Every conv is conv + norm + ReLU (mmseg's ``ConvModule``; BN/SyncBN in the paper's setting, GN for small
CPU batches). An optional auxiliary FCN head (mmseg's deep supervision on stage 4, loss weight 0.4) runs
in training only and is not part of inference.
"""

from __future__ import annotations

from collections.abc import Sequence

import fvcore.nn.weight_init as weight_init
import torch
import torch.nn as nn
import torch.nn.functional as F
from detectron2.config import configurable
from detectron2.layers import Conv2d, ShapeSpec, get_norm
from detectron2.modeling import SEM_SEG_HEADS_REGISTRY

__all__ = ["UperNetHead", "pyramid_shapes"]


def pyramid_shapes(
    channels: Sequence[int], strides: Sequence[int] = (4, 8, 16, 32), prefix: str = "res"
) -> dict[str, ShapeSpec]:
    """``{"res2": ShapeSpec(channels=c0, stride=4), ...}``: the ``input_shape`` of a head on backbone maps
    with these channels (Detectron2 naming, stride ``2**k`` -> ``res{k}``)."""
    if len(channels) != len(strides):
        raise ValueError(f"{len(channels)} channel counts for {len(strides)} strides")
    return {
        f"{prefix}{int(s).bit_length() - 1}": ShapeSpec(channels=int(c), stride=int(s))
        for c, s in zip(channels, strides)
    }


def _up(x: torch.Tensor, size) -> torch.Tensor:
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


def _conv(in_ch: int, out_ch: int, k: int, norm: str) -> Conv2d:
    conv = Conv2d(
        in_ch, out_ch, k, padding=k // 2, bias=not norm, norm=get_norm(norm, out_ch), activation=F.relu
    )
    weight_init.c2_msra_fill(conv)
    return conv


@SEM_SEG_HEADS_REGISTRY.register()
class UperNetHead(nn.Module):
    """UperNet: PPM on the last input map + FPN + multi-level fusion (see the module docstring).

    Args:
        input_shape: the backbone maps it reads, ``{name: ShapeSpec(channels, stride)}``, ordered by
            stride by the head itself (e.g. :func:`pyramid_shapes` of the backbone's channels).
        num_classes: output classes (150 for ADE20K).
        channels: width of PPM, FPN and fusion convs (512 in the paper / mmseg).
        pool_scales: PPM bin sizes.
        norm: Detectron2 norm name ("SyncBN", "BN", "GN", "" for none).
        dropout: before the classifier (0.1 as mmseg).
        common_stride: stride of the finest map; logits are upsampled by it.
        loss_weight, ignore_value: the cross-entropy's weight and ignored label.
        aux_in_feature: a map for the auxiliary FCN head (e.g. "res4"), None for none.
        aux_channels, aux_loss_weight: its width and loss weight (256, 0.4 as mmseg).

    ``forward(features, targets)``: ``{name: (B, C_k, H_k, W_k)}`` -> in training ``(None, losses)``,
    else ``((B, num_classes, H, W) logits, {})`` with ``H = common_stride * H_finest``.
    """

    @configurable
    def __init__(
        self,
        input_shape: dict[str, ShapeSpec],
        *,
        num_classes: int,
        channels: int = 512,
        pool_scales: Sequence[int] = (1, 2, 3, 6),
        norm: str = "SyncBN",
        dropout: float = 0.1,
        common_stride: int = 4,
        loss_weight: float = 1.0,
        ignore_value: int = 255,
        aux_in_feature: str | None = None,
        aux_channels: int = 256,
        aux_loss_weight: float = 0.4,
    ):
        super().__init__()
        shapes = sorted(input_shape.items(), key=lambda kv: kv[1].stride)
        self.in_features = [k for k, _ in shapes]
        self.in_channels = [s.channels for _, s in shapes]
        if shapes[0][1].stride != common_stride:
            raise ValueError(
                f"common_stride={common_stride} but the finest input map {shapes[0][0]} has stride "
                f"{shapes[0][1].stride}"
            )
        self.common_stride = common_stride
        self.ignore_value = ignore_value
        self.loss_weight = loss_weight
        self.pool_scales = tuple(pool_scales)
        top = self.in_channels[-1]

        # PPM (B, C_top, h, w) -> (B, channels, h, w)
        self.ppm = nn.ModuleList(_conv(top, channels, 1, norm) for _ in self.pool_scales)
        self.ppm_bottleneck = _conv(top + len(self.pool_scales) * channels, channels, 3, norm)
        # FPN on all but the last map
        self.lateral_convs = nn.ModuleList(_conv(c, channels, 1, norm) for c in self.in_channels[:-1])
        self.fpn_convs = nn.ModuleList(_conv(channels, channels, 3, norm) for _ in self.in_channels[:-1])
        self.fpn_bottleneck = _conv(len(self.in_channels) * channels, channels, 3, norm)
        self.dropout = nn.Dropout2d(dropout) if dropout > 0 else nn.Identity()
        self.predictor = Conv2d(channels, num_classes, kernel_size=1)
        nn.init.normal_(self.predictor.weight, 0, 0.01)
        nn.init.constant_(self.predictor.bias, 0)

        self.aux_in_feature = aux_in_feature
        self.aux_loss_weight = aux_loss_weight
        if aux_in_feature is not None:
            if aux_in_feature not in input_shape:
                raise ValueError(f"aux_in_feature {aux_in_feature!r} is not an input: {self.in_features}")
            self.aux_head = nn.Sequential(
                _conv(input_shape[aux_in_feature].channels, aux_channels, 3, norm),
                nn.Dropout2d(dropout) if dropout > 0 else nn.Identity(),
                Conv2d(aux_channels, num_classes, kernel_size=1),
            )
            nn.init.normal_(self.aux_head[-1].weight, 0, 0.01)
            nn.init.constant_(self.aux_head[-1].bias, 0)

    @classmethod
    def from_config(cls, cfg, input_shape: dict[str, ShapeSpec]):
        """yacs: ``MODEL.SEM_SEG_HEAD`` (IN_FEATURES, NUM_CLASSES, CONVS_DIM, NORM, COMMON_STRIDE,
        LOSS_WEIGHT, IGNORE_VALUE); ``input_shape`` is the backbone's ``output_shape()``."""
        head = cfg.MODEL.SEM_SEG_HEAD
        return dict(
            input_shape={k: v for k, v in input_shape.items() if k in head.IN_FEATURES},
            num_classes=head.NUM_CLASSES,
            channels=head.CONVS_DIM,
            norm=head.NORM,
            common_stride=head.COMMON_STRIDE,
            loss_weight=head.LOSS_WEIGHT,
            ignore_value=head.IGNORE_VALUE,
        )

    def _check(self, features: dict[str, torch.Tensor]) -> None:
        for name, c in zip(self.in_features, self.in_channels):
            if name not in features:
                raise KeyError(f"UperNetHead reads {name!r}; the backbone gives {sorted(features)}")
            if features[name].shape[1] != c:
                raise ValueError(
                    f"UperNetHead was built for {name} with {c} channels (input_shape), the backbone "
                    f"gives {features[name].shape[1]}: set model.sem_seg_head.input_shape from the "
                    "backbone's channels (lgvit_det.semseg.pyramid_shapes)"
                )

    def layers(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        """Backbone maps -> ``(B, num_classes, H_finest, W_finest)`` logits."""
        self._check(features)
        xs = [features[k] for k in self.in_features]
        top = xs[-1]
        size = top.shape[-2:]
        bins = zip(self.pool_scales, self.ppm)
        pooled = [_up(conv(F.adaptive_avg_pool2d(top, s)), size) for s, conv in bins]  # B, channels, h, w
        levels = [lat(x) for lat, x in zip(self.lateral_convs, xs[:-1])]
        levels.append(self.ppm_bottleneck(torch.cat([top, *pooled], dim=1)))  # B, channels, h, w
        for i in range(len(levels) - 1, 0, -1):  # top-down
            levels[i - 1] = levels[i - 1] + _up(levels[i], levels[i - 1].shape[-2:])
        outs = [conv(x) for conv, x in zip(self.fpn_convs, levels[:-1])] + [levels[-1]]
        size = outs[0].shape[-2:]
        outs = [outs[0]] + [_up(x, size) for x in outs[1:]]
        x = self.fpn_bottleneck(torch.cat(outs, dim=1))  # B, channels, H/4, W/4
        return self.predictor(self.dropout(x))

    def forward(self, features: dict[str, torch.Tensor], targets: torch.Tensor | None = None):
        x = self.layers(features)
        if self.training:
            losses = {"loss_sem_seg": self._loss(x, targets) * self.loss_weight}
            if self.aux_in_feature is not None:
                aux = self.aux_head(features[self.aux_in_feature])
                losses["loss_sem_seg_aux"] = self._loss(aux, targets) * self.aux_loss_weight
            return None, losses
        x = F.interpolate(x, scale_factor=self.common_stride, mode="bilinear", align_corners=False)
        return x, {}

    def _loss(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of ``logits`` upsampled to the targets' size ``(B, H, W)`` (padded with
        ``ignore_value`` by ``SemanticSegmentor``)."""
        logits = F.interpolate(logits.float(), size=targets.shape[-2:], mode="bilinear", align_corners=False)
        return F.cross_entropy(logits, targets, reduction="mean", ignore_index=self.ignore_value)
