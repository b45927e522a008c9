"""Loading image (ImageNet) checkpoints into a :class:`VideoTransformer`.

Image keys ``stages.i.blocks.j.X`` live at ``backbone.stages.i.blocks.j.spatial.X`` in the video model
(the block is wrapped); everything else moves under ``backbone.``. The temporal parts (temporal
attention with its position embedding and ``temporal_fc``) are not in an image checkpoint: they keep
their fresh initialisation and are reported as missing. A classifier of another size is dropped and reported.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import torch

from lgvit.models.regionvit import RegionViT, checkpoint_filter_fn, load_checked

from .temporal import DividedSpaceTimeBlock
from .video_transformer import VideoTransformer

logger = logging.getLogger(__name__)

_BLOCK = re.compile(r"^(stages\.\d+\.blocks\.\d+)\.(.*)$")


@dataclass
class LoadReport:
    """What loading an image checkpoint did: ``missing`` (freshly initialised in the video model),
    ``unexpected`` (in the checkpoint, unused), ``dropped`` (shape-mismatched head, re-initialised)."""

    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    from_spatial: list[str] = field(default_factory=list)

    def summary(self) -> str:
        def short(keys: list[str]) -> str:
            return ", ".join(keys[:6]) + (f" ... (+{len(keys) - 6})" if len(keys) > 6 else "")

        return (
            f"missing {len(self.missing)} (temporal parts, freshly initialised): {short(self.missing)}\n"
            f"unexpected {len(self.unexpected)}: {short(self.unexpected)}\n"
            f"dropped {len(self.dropped)} (shape mismatch, re-initialised): {short(self.dropped)}\n"
            f"temporal attentions initialised from their spatial attention: {len(self.from_spatial) // 3}"
        )


def image_to_video_state_dict(
    state_dict: dict[str, torch.Tensor], model: VideoTransformer
) -> dict[str, torch.Tensor]:
    """Renames image keys to video keys (``backbone.`` prefix, ``.spatial`` inside wrapped blocks)."""
    wrapped = bool(model.spacetime_blocks())
    out = {}
    for k, v in state_dict.items():
        m = _BLOCK.match(k)
        if wrapped and m:
            k = f"{m.group(1)}.spatial.{m.group(2)}"
        out[f"backbone.{k}"] = v
    return out


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Reads a checkpoint file: a bare state dict or one under 'model' / 'state_dict'."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    obj = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("model", "state_dict"):
        if isinstance(obj, dict) and key in obj and isinstance(obj[key], dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ValueError(f"{path} holds no state dict (expected a dict of tensors, optionally under 'model')")
    return obj


def copy_spatial_to_temporal(model: VideoTransformer) -> list[str]:
    """TimeSformer's initialisation: each temporal attention starts from its block's pretrained spatial
    attention (``qkv``, ``proj``) and LSA pre-norm. ``temporal_fc`` stays zero, so the model still equals
    the image model. Returns the names of the temporal parameters set this way."""
    copied = []
    for name, m in model.named_modules():
        if (
            isinstance(m, DividedSpaceTimeBlock)
            and hasattr(m.spatial, "attn")
            and hasattr(m.spatial, "norm1")
        ):
            with torch.no_grad():
                for dst, src in ((m.temporal.attn, m.spatial.attn), (m.temporal.norm, m.spatial.norm1)):
                    dst.load_state_dict(src.state_dict())
            copied += [f"{name}.temporal.{k}" for k in ("attn.qkv.weight", "attn.proj.weight", "norm.weight")]
    return copied


def load_image_checkpoint(
    model: VideoTransformer,
    checkpoint: str | Path | dict[str, torch.Tensor],
    temporal_from_spatial: bool = True,
) -> LoadReport:
    """Loads an image checkpoint (ours or official RegionViT, any window) into ``model``'s backbone.

    Missing keys must all be temporal parts, otherwise a ValueError names them (wrong variant). With
    ``temporal_from_spatial`` the temporal attentions start as copies of the pretrained spatial ones
    (TimeSformer does this); their position embeddings and ``temporal_fc`` (zero) stay fresh.
    """
    sd = read_state_dict(checkpoint) if not isinstance(checkpoint, dict) else checkpoint
    if any(k.startswith("backbone.") for k in sd):
        raise ValueError(
            "this is a video checkpoint (keys start with 'backbone.'); use --resume / MODEL.weights"
        )
    if isinstance(model.backbone, RegionViT):
        sd = checkpoint_filter_fn(sd, model.backbone)  # official -> ours, rel-pos/window adaptation
    sd = image_to_video_state_dict(sd, model)
    own = model.state_dict()
    dropped = sorted(k for k, v in sd.items() if k in own and own[k].shape != v.shape and ".head." in f".{k}")
    for k in dropped:
        del sd[k]
    missing, unexpected = load_checked(model, sd, strict=False)
    temporal = re.compile(r"\.temporal\.")
    not_temporal = [k for k in missing if not temporal.search(k) and k not in dropped]
    if not_temporal:
        raise ValueError(
            f"the image checkpoint lacks {len(not_temporal)} backbone weights, e.g. {not_temporal[:5]}: "
            "is it for another backbone variant?"
        )
    report = LoadReport(missing=list(missing), unexpected=list(unexpected), dropped=dropped)
    if temporal_from_spatial:
        report.from_spatial = copy_spatial_to_temporal(model)
    logger.info("loaded image checkpoint into the video model\n%s", report.summary())
    return report
