"""Writes the synthetic motion-direction dataset: real encoded videos (PyAV; H.264 via libx264 when the
av wheel has it, else MPEG-4) of a square moving left/right/up/down, in both Kinetics-400 layouts
(train.csv/val.csv "<path> <label>" and class folders), plus classes.txt.

    python tools/make_motion_videos.py datasets/motion
    python tools/make_motion_videos.py /tmp/m --train-per-class 8 --size 64 --corrupt 2 --short 2

--corrupt/--short add broken and 3-frame videos (listed in extra.csv) for testing error handling.
The logic lives in video/data/synthetic.py.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from video.data.synthetic import (
    CLASSES,
    make_motion_dataset,
    render_motion_clip,
    write_corrupt_video,
    write_video,
)  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("root", type=Path, help="output folder")
    p.add_argument("--train-per-class", type=int, default=64, help="training videos per class (default 64)")
    p.add_argument("--val-per-class", type=int, default=16, help="held-out videos per class (default 16)")
    p.add_argument("--frames", type=int, default=16, help="frames per video (default 16)")
    p.add_argument("--size", type=int, default=32, help="frame side in pixels (default 32)")
    p.add_argument("--fps", type=int, default=8, help="frame rate (default 8)")
    p.add_argument("--codec", default=None, help="PyAV codec (default: libx264 if available, else mpeg4)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--corrupt", type=int, default=0, help="also write this many corrupt videos (extra/)")
    p.add_argument("--short", type=int, default=0, help="also write this many 3-frame videos (extra/)")
    args = p.parse_args()
    ds = make_motion_dataset(
        args.root,
        args.train_per_class,
        args.val_per_class,
        args.frames,
        args.size,
        args.fps,
        args.seed,
        args.codec,
    )
    extra = []
    kinds = ("garbage", "truncated", "empty")
    for i in range(args.corrupt):
        source = next((ds.root / "val" / CLASSES[0]).iterdir())
        path = write_corrupt_video(ds.root / "extra" / f"corrupt_{i}.mp4", kinds[i % 3], source=source)
        extra.append(f"{path.relative_to(ds.root)} 0")
    for i in range(args.short):
        import numpy as np

        name = CLASSES[i % 4]
        path = ds.root / "extra" / f"short_{i}.mp4"
        write_video(path, render_motion_clip(name, 3, args.size, np.random.default_rng(i)), codec=args.codec)
        extra.append(f"{path.relative_to(ds.root)} {i % 4}")
    if extra:
        (ds.root / "extra.csv").write_text("\n".join(extra) + "\n")
    print(
        f"wrote {ds.num_train} train + {ds.num_val} val videos ({ds.codec}) to {ds.root}"
        + (f", {len(extra)} extra (extra.csv)" if extra else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
