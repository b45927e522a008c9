"""Draws RSIR's IR-Win window membership for an image: which tokens share a window, stage by stage.

For each stage, every token of block ``--block`` is coloured by its IR-Win window (tokens sorted by the
importance map, most important first, cut into windows of ``window**2`` tokens; darker = more important
window) over the image. Without ``--image`` a synthetic picture (bright shapes on a dark background) is
used. Random weights unless ``--checkpoint`` is given. Writes one PNG.

    .venv/bin/python tools/visualize_rsir_windows.py --model rsir_t --image cat.jpg -o ir_windows.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import lgvit  # noqa: E402
from lgvit.checkpoint import load_pretrained  # noqa: E402
from lgvit.models.rsir import ir_window_membership  # noqa: E402


def synthetic_image(height: int, width: int) -> Image.Image:
    img = Image.new("RGB", (width, height), (20, 24, 32))
    d = ImageDraw.Draw(img)
    d.ellipse((width * 0.1, height * 0.15, width * 0.45, height * 0.6), fill=(230, 200, 40))
    d.rectangle((width * 0.55, height * 0.5, width * 0.9, height * 0.9), fill=(40, 160, 230))
    return img


def to_tensor(img: Image.Image, mean, std) -> torch.Tensor:
    x = torch.from_numpy(np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0).permute(2, 0, 1)
    return ((x - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None]).unsqueeze(0)


def draw(img: Image.Image, members: list[torch.Tensor], window: int, out: Path) -> None:
    n = len(members)
    fig, axes = plt.subplots(1, n + 1, figsize=(3.2 * (n + 1), 3.4))
    axes[0].imshow(img)
    axes[0].set_title("input")
    H, W = img.height, img.width
    for i, (ax, m) in enumerate(zip(axes[1:], members)):
        m = m[0].float()
        h, w = m.shape
        ax.imshow(img, extent=(0, W, H, 0))
        ax.imshow(m.numpy(), cmap="viridis_r", alpha=0.75, extent=(0, w * W / w, h * H / h, 0))
        ax.set_title(f"stage {i + 1}: {h}x{w} tokens, {int(m.max()) + 1} windows\n({window**2} tokens each)")
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("RSIR IR-Win windows (colour = window; darker = more important)")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="rsir_t", help="a registered rsir_* model")
    p.add_argument("--image", type=Path, default=None, help="image file (default: a synthetic picture)")
    p.add_argument("--size", type=int, nargs=2, default=(224, 224), metavar=("H", "W"), help="resize to")
    p.add_argument("--checkpoint", type=Path, default=None, help="weights (random otherwise)")
    p.add_argument("--block", type=int, default=0, help="which block of every stage")
    p.add_argument("-o", "--output", type=Path, default=Path("ir_windows.png"))
    args = p.parse_args(argv)
    if not args.model.startswith("rsir"):
        p.error(f"--model must be an RSIR model ({', '.join(lgvit.list_models('rsir_*'))}), got {args.model}")
    torch.manual_seed(0)
    model = lgvit.create_model(args.model).eval()
    if args.checkpoint is not None:
        load_pretrained(model, args.checkpoint)
    H, W = args.size
    img = Image.open(args.image).convert("RGB").resize((W, H)) if args.image else synthetic_image(H, W)
    cfg = model.pretrained_cfg
    members = ir_window_membership(model, to_tensor(img, cfg["mean"], cfg["std"]), args.block)
    draw(img, members, model.window, args.output)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
