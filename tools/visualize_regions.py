"""Draws how RegionViT splits an image into regions, stage by stage (a region map).

For each stage: the local-token grid, the regions (one regional token each), the padding added to
reach whole regions, and which padded tokens stay visible to the attention under the official mask
(``--strict`` shows the paper's strict mask instead). Writes one PNG.

    .venv/bin/python tools/visualize_regions.py --height 200 --width 264 --model regionvit_s -o regions.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.patches as mpatches  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import lgvit  # noqa: E402
from lgvit.layers import region_padding_mask, region_window  # noqa: E402


def stage_grids(model: lgvit.RegionViT, height: int, width: int) -> list[dict]:
    """Regional and local grid sizes of every stage for an input size (runs the stages on
    zeros once, so the sizes are the real ones, padding rules included)."""
    sizes = []
    with torch.no_grad():
        x = torch.zeros(1, model.in_chans, height, width)
        regional, local = model.region_embed(x), model.patch_embed(x)
        for stage in model.stages:
            regional, local = stage(regional, local)
            rhw, lhw = tuple(regional.shape[-2:]), tuple(local.shape[-2:])
            window = region_window(rhw, lhw, stage.window, clip=stage.strict_padding_mask)
            sizes.append(dict(regional=rhw, local=lhw, window=window, strict=stage.strict_padding_mask))
    return sizes


def draw_stage(ax: plt.Axes, grid: dict, title: str) -> None:
    (Hr, Wr), (H, W), (wh, ww) = grid["regional"], grid["local"], grid["window"]
    Hp, Wp = Hr * wh, Wr * ww
    mask = region_padding_mask((Hr, Wr), (H, W), (wh, ww), strict=grid["strict"])
    # a padded token is "visible" if some token of its region may attend to it
    if mask is None:
        visible = torch.zeros(Hp, Wp, dtype=torch.bool)
    else:
        visible = mask[:, 1:, 1:].any(1).reshape(Hr, Wr, wh, ww).permute(0, 2, 1, 3).reshape(Hp, Wp)
    padded = torch.ones(Hp, Wp, dtype=torch.bool)
    padded[:H, :W] = False
    colors = torch.tensor([[0.86, 0.91, 0.96], [0.88, 0.88, 0.88], [0.96, 0.65, 0.51]])
    kind = torch.where(padded, torch.where(visible, 2, 1), 0)  # token, masked padding, visible padding
    ax.imshow(colors[kind].numpy(), extent=(0, Wp, Hp, 0), interpolation="nearest")
    for ry in range(Hr + 1):
        ax.plot([0, Wp], [ry * wh, ry * wh], color="#b2182b", lw=1.5)
    for rx in range(Wr + 1):
        ax.plot([rx * ww, rx * ww], [0, Hp], color="#b2182b", lw=1.5)
    ax.plot([0, W, W, 0, 0], [0, 0, H, H, 0], color="#2166ac", lw=1.2, ls="--")
    ax.set_xlim(-0.5, Wp + 0.5)
    ax.set_ylim(Hp + 0.5, -0.5)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=9)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="regionvit_s", help="registered model name (lgvit.list_models())")
    parser.add_argument("--height", type=int, default=200, help="input image height in pixels")
    parser.add_argument("--width", type=int, default=264, help="input image width in pixels")
    parser.add_argument(
        "--strict", action="store_true", help="show strict_padding_mask=True instead of official"
    )
    parser.add_argument("-o", "--output", default="region_map.png", help="PNG file to write")
    args = parser.parse_args()

    model = lgvit.create_model(args.model, num_classes=0, strict_padding_mask=args.strict).eval()
    grids = stage_grids(model, args.height, args.width)
    fig, axes = plt.subplots(1, len(grids), figsize=(4 * len(grids), 4.4))
    for i, (ax, g) in enumerate(zip(axes, grids)):
        title = (
            f"stage {i + 1}: {g['local'][0]}x{g['local'][1]} local tokens\n"
            f"{g['regional'][0]}x{g['regional'][1]} regions of {g['window'][0]}x{g['window'][1]}"
        )
        draw_stage(ax, g, title)
    handles = [
        mpatches.Patch(color="#dbe9f6", label="local token"),
        mpatches.Patch(color="#e0e0e0", label="padding, masked"),
        mpatches.Patch(color="#f4a582", label="padding, visible (official mask)"),
        mpatches.Patch(color="#b2182b", label="region (one regional token)"),
    ]
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=8, frameon=False)
    mode = "strict mask" if args.strict else "official mask"
    fig.suptitle(f"{args.model} on a {args.height}x{args.width} image ({mode})", fontsize=11)
    fig.tight_layout(rect=(0, 0.06, 1, 0.95))
    fig.savefig(args.output, dpi=110)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
