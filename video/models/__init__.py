"""Video models: divided (or joint) space-time attention around any lgvit image backbone."""

from .build import build_video_model
from .checkpoint import VideoLoadReport, image_to_video_state_dict, load_image_checkpoint
from .temporal import (
    DividedSpaceTimeBlock,
    JointSpaceTimeAttention,
    TemporalAttention,
    frames_to_positions,
    positions_to_frames,
)
from .video_transformer import VideoTransformer

__all__ = [
    "DividedSpaceTimeBlock",
    "JointSpaceTimeAttention",
    "TemporalAttention",
    "VideoLoadReport",
    "VideoTransformer",
    "build_video_model",
    "frames_to_positions",
    "image_to_video_state_dict",
    "load_image_checkpoint",
    "positions_to_frames",
]
