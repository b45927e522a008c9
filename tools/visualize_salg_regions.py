"""Draws SALG's semantic-aware region segmentation of every SALG stage on a photograph (as the paper's
Fig. 4): the image, then per stage the regions (one colour each, boundaries in white) over the image and
the uniform 7x7-token windows whose means seeded them. Writes one PNG.

By default the photograph is matplotlib's bundled sample ``grace_hopper.jpg`` (shipped inside the
installed package; nothing is downloaded); ``--image`` takes any image file. Without ``--weights`` the
model is untrained: its stem is then a random projection of local colour and texture, so the regions
follow colour edges; trained weights give semantic ones.

    .venv/bin/python tools/visualize_salg_regions.py -o salg_regions.png
    .venv/bin/python tools/visualize_salg_regions.py --image photo.jpg --model salg_t --weights salg_t.pth
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.cbook as cbook  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from PIL import Image  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import lgvit  # noqa: E402
from lgvit.checkpoint import load_pretrained  # noqa: E402


def bundled_photo() -> Path:
    return Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


def load_image(path: Path, size: int) -> tuple[np.ndarray, torch.Tensor]:
    """RGB uint8 ``(h, w, 3)`` resized so the shorter side is ``size``, and the normalised
    ``(1, 3, h, w)`` tensor."""
    img = Image.open(path).convert("RGB")
    scale = size / min(img.size)
    img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.BICUBIC)
    rgb = np.asarray(img)
    x = torch.from_numpy(rgb.copy()).permute(2, 0, 1).float()[None] / 255.0
    mean = torch.tensor((0.485, 0.456, 0.406))[None, :, None, None]
    std = torch.tensor((0.229, 0.224, 0.225))[None, :, None, None]
    return rgb, (x - mean) / std


def boundaries(region: np.ndarray) -> np.ndarray:
    """Bool map: True where a pixel's region differs from its right or lower neighbour."""
    edge = np.zeros(region.shape, dtype=bool)
    edge[:, :-1] |= region[:, :-1] != region[:, 1:]
    edge[:-1, :] |= region[:-1, :] != region[1:, :]
    return edge


def draw(rgb: np.ndarray, maps: list[torch.Tensor], out: Path, title: str) -> None:
    h, w = rgb.shape[:2]
    fig, axes = plt.subplots(1, 1 + len(maps), figsize=(4 * (1 + len(maps)), 4.4))
    axes[0].imshow(rgb)
    axes[0].set_title("input")
    palette = np.random.default_rng(0).integers(40, 255, size=(4096, 3))
    for i, (ax, m) in enumerate(zip(axes[1:], maps)):
        th, tw = m.shape[-2:]
        up = F.interpolate(m[None, None].float(), size=(h, w), mode="nearest")[0, 0].long().numpy()
        overlay = (0.45 * rgb + 0.55 * palette[up % len(palette)]).astype(np.uint8)
        overlay[boundaries(up)] = 255
        ax.imshow(overlay)
        # the uniform 7x7-token windows (dashed): where the region means came from
        for k in range(7, max(th, tw), 7):
            if k < th:
                ax.axhline(k * h / th - 0.5, color="black", lw=0.6, ls="--")
            if k < tw:
                ax.axvline(k * w / tw - 0.5, color="black", lw=0.6, ls="--")
        ax.set_title(f"SALG stage {i + 1}: {th}x{tw} tokens, {len(np.unique(up))} regions")
    for ax in axes:
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> Path:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--image", type=Path, default=None, help="image file (default: matplotlib's bundled photo)"
    )
    p.add_argument("--model", default="salg_t", choices=lgvit.list_models("salg*"))
    p.add_argument("--weights", default=None, help="checkpoint (ours or a trainer's); default: untrained")
    p.add_argument("--size", type=int, default=224, help="shorter image side fed to the model")
    p.add_argument("--block", type=int, default=0, help="which block of each stage to show (0: the first)")
    p.add_argument("-o", "--output", type=Path, default=Path("salg_regions.png"))
    args = p.parse_args(argv)
    torch.manual_seed(0)
    model = lgvit.create_model(args.model, num_classes=0).eval()
    if args.weights:
        load_pretrained(model, args.weights)
    path = args.image or bundled_photo()
    rgb, x = load_image(path, args.size)
    maps = [m[0] for m in model.segmentation(x, block=args.block)]
    weights = Path(args.weights).name if args.weights else "untrained"
    draw(rgb, maps, args.output, f"{args.model} ({weights}) on {path.name}, block {args.block} of each stage")
    print(f"wrote {args.output}")
    return args.output


if __name__ == "__main__":
    main()
