from detectron2.config import LazyCall as L

from video.models import build_video_model

# Divided space-time RegionViT-S for Kinetics-400 (RegionViT 4.3 / A.4, Table 7: 42.9M, 59.4 GFLOPs).
# pretrained: an ImageNet-1k RegionViT-S checkpoint (ours or official); the temporal parts start fresh.
model = L(build_video_model)(
    backbone="regionvit_s",
    num_classes=400,
    num_frames=8,
    space_time="divided",  # or "joint" (baseline), "space" (no temporal modelling)
    drop_path_rate=0.1,  # the paper names drop path but not the rate (image fine-tuning value)
    pretrained=None,
)
