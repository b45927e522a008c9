"""Clips/s and peak training memory of divided space-time video RegionViT-S vs a joint space-time
baseline of the same widths (default 8x224x224, one run). Smaller sizes via flags for CPUs:

    python tools/benchmark_video.py                       # 1 clip of 8x224x224, 2 timed steps
    python tools/benchmark_video.py --size 112 --steps 1  # quicker on CPU

The logic lives in tools/lgvit_tools/video_benchmark.py (each model is measured in its own subprocess).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # lgvit_tools (it puts the checkout on the path)

from lgvit_tools.video_benchmark import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
