"""Video models: divided space-time attention around lgvit image backbones, and a joint baseline."""

from .build import build_video_model
from .checkpoint import LoadReport, image_to_video_state_dict, load_image_checkpoint
from .temporal import DividedSpaceTimeBlock, TemporalAttention, frames_to_positions, positions_to_frames
from .video_transformer import VideoTransformer

__all__ = [
    "DividedSpaceTimeBlock",
    "LoadReport",
    "TemporalAttention",
    "VideoTransformer",
    "build_video_model",
    "frames_to_positions",
    "image_to_video_state_dict",
    "load_image_checkpoint",
    "positions_to_frames",
]
